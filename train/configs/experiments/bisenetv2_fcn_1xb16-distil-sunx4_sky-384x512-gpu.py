# E21: E20 (60% of the human-labelled skies swapped) with the teacher-labelled SUN outdoor photos and
# ADE20K's human-labelled photos drawn twice as often, the two sets most like everyday photos.
_base_ = ['./bisenetv2_fcn_1xb16-distil-skyswap60_sky-384x512-gpu.py']

train_dataloader = dict(dataset=dict(split_weights=dict(
    camvid_train=2, camvid_val=1, cityscapes_sky=1, ade20k_sky=4, idd_train=1,
    sun_outdoor=4, sun_mixed=1, sun_indoor=1)))
