# Experiment E2 (train/EXPERIMENTS.md): the shipped recipe with whole-frame 384x512 crops instead of
# 320x320, so every crop keeps the top of the frame (sky context), and 2400 iterations.
_base_ = ['./bisenetv2_fcn_1xb4-2k_sky-384x512.py']

crop_size = (384, 512)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 384), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_splits = ['camvid_train', 'camvid_val', 'cityscapes_sky', 'ade20k_sky']
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ConcatDataset',
    datasets=[dict(type='SkyDataset', data_root='data/sky',
                   data_prefix=dict(img_path=f'{name}/images', seg_map_path=f'{name}/masks'),
                   pipeline=train_pipeline) for name in train_splits]))

max_iters = 2400
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end=100),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=100, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=100, max_keep_ckpts=2))
