# E17: the distillation recipe (E16) with 30% of the labelled skies repainted blue, dusk, sunset,
# night or overcast (SkyRecolor: texture and the real boundary kept, a feathered matte), to measure
# whether colour variety beyond the teacher's photos helps. Everything else as E16.
_base_ = ['../bisenetv2_fcn_1xb16-distil_sky-384x512-gpu.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 384), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(384, 512), cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SkyRecolor', prob=0.3),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_imports = dict(imports=['skyseg.train.datasets', 'skyseg.train.hooks', 'skyseg.train.transforms'],
                      allow_failed_imports=False)
