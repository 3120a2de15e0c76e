# E19: the distillation recipe (E16b) with 30% of the human-labelled street and scene skies replaced
# by real skies cut from the teacher-labelled SUN photos (SkySwap: blue, dusk and sunset skies next to
# facades and crowns, inside the human label, through a feathered matte). Everything else as E16b.
_base_ = ['../bisenetv2_fcn_1xb16-distil_sky-384x512-gpu.py']

train_dataloader = dict(dataset=dict(augment=dict(
    skyswap=dict(type='SkySwap', before='PhotoMetricDistortion', prob=0.3, sources=('sun_outdoor',),
                 splits=('camvid_train', 'camvid_val', 'cityscapes_sky', 'ade20k_sky', 'idd_train')))))
custom_imports = dict(imports=['skyseg.train.datasets', 'skyseg.train.hooks', 'skyseg.train.transforms'],
                      allow_failed_imports=False)
