# E18, measured only, never shipped: the distillation recipe (E16) plus the 532 teacher-labelled
# campus photos of sun_unlabelled (buildings under bright and blue skies, the kind ade20k_dev's
# worst photos show). Their source states no licence ("development only, never redistribute"), so
# a network trained on them is not a shippable default; this run measures what such photos are
# worth, for a decision about licensed city photos.
_base_ = ['../bisenetv2_fcn_1xb16-distil_sky-384x512-gpu.py']

train_dataloader = dict(dataset=dict(split_weights=dict(sun_campus=1)))
