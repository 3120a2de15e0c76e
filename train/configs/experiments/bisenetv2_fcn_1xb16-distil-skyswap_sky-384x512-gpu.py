# E19: the distillation recipe (E16b) with 30% of the human-labelled street and scene skies replaced
# by real skies cut from the teacher-labelled SUN photos (SkySwap: blue, dusk and sunset skies next to
# facades and crowns, inside the human label, through a feathered matte). Everything else as E16b.
_base_ = ['../bisenetv2_fcn_1xb16-distil_sky-384x512-gpu.py']

swap_prob = 0.3
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 384), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(384, 512), cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SkySwap', prob=swap_prob, sources=('sun_outdoor',),
         splits=('camvid_train', 'camvid_val', 'cityscapes_sky', 'ade20k_sky', 'idd_train')),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_imports = dict(imports=['skyseg.train.datasets', 'skyseg.train.hooks', 'skyseg.train.transforms'],
                      allow_failed_imports=False)
