# E20: E19 with 60% of the human-labelled skies swapped, to measure how much of the swap pays.
_base_ = ['./bisenetv2_fcn_1xb16-distil-skyswap_sky-384x512-gpu.py']

train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 384), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(384, 512), cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SkySwap', prob=0.6, sources=('sun_outdoor',),
         splits=('camvid_train', 'camvid_val', 'cityscapes_sky', 'ade20k_sky', 'idd_train')),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]))
