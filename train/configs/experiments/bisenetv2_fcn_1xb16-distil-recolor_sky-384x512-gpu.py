# E17: the distillation recipe (E16) with 30% of the labelled skies repainted blue, dusk, sunset,
# night or overcast (SkyRecolor: texture and the real boundary kept, a feathered matte), to measure
# whether colour variety beyond the teacher's photos helps. Everything else as E16.
_base_ = ['../bisenetv2_fcn_1xb16-distil_sky-384x512-gpu.py']

train_dataloader = dict(dataset=dict(augment=dict(
    recolor=dict(type='SkyRecolor', before='PhotoMetricDistortion', prob=0.3))))
custom_imports = dict(imports=['skyseg.train.datasets', 'skyseg.train.hooks', 'skyseg.train.transforms'],
                      allow_failed_imports=False)
