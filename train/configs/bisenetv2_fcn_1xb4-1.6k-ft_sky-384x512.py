# Stage 2 of the default recipe (train/EXPERIMENTS.md, E3): fine-tune the stage-1 model
# (`bisenetv2_fcn_1xb4-2k_sky-384x512.py --max-iters 1600`) on whole 384x512 frames, so every crop
# keeps the horizon and the top of the frame, with Lovasz-softmax (a surrogate of IoU itself) added
# to the cross-entropy of the decode head, and ADE20K's varied scenes (63% without sky: the hard
# negatives) seen twice as often.
_base_ = ['./bisenetv2_fcn_1xb4-2k_sky-384x512.py']

load_from = 'work_dirs/sky/iter_1600.pth'  # stage 1; `skyseg train --cfg-options` may point elsewhere

crop_size = (384, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(loss_decode=[
        dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        dict(type='LovaszLoss', loss_type='multi_class', classes='present', per_image=False,
             reduction='none', loss_weight=1.0),
    ]))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 384), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
# Sampling weight per training split (whole repeats per epoch; train/datasets.py). CamVid test and
# the *_heldout 20% of cityscapes_sky / ade20k_sky are never listed here (the dataset refuses them).
train_dataloader = dict(dataset=dict(
    _delete_=True, type='WeightedSkySplits', data_root={{_base_.data_root}}, pipeline=train_pipeline,
    split_weights=dict(camvid_train=1, camvid_val=1, cityscapes_sky=1, ade20k_sky=2)))

max_iters = 1600
optim_wrapper = dict(optimizer=dict(lr=0.01))  # merged into stage 1's SGD
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end=50),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=50, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=100, max_keep_ckpts=2))
