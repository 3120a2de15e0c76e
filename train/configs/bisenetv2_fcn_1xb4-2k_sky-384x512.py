# BiSeNetV2 + FCN head, two classes (not_sky, sky), 1 CPU/GPU x batch 4, 2k iterations,
# served at a 384x512 (H x W) letterbox. Self-contained: no `mmseg::` bases (they need pkg_resources).
#
# `input_size`, the data preprocessor's mean/std and the dataset's classes are the serving contract:
# `skyseg build-repo` reads them from this file and writes them into every config.pbtxt.

input_size = (384, 512)  # (H, W) the served model sees; images are letterboxed into it
crop_size = (320, 320)  # training crops, taken after a random rescale of the letterboxed scale
data_root = 'data/sky'  # written by `skyseg prepare-data`
# Serving-time refinement of the sky probability: a guided filter (radius in input pixels, eps on a
# 0..1 grey guide) that snaps the 1/8-resolution boundary to the image's edges. Tuned on the held-out
# cityscapes/ade20k splits, never on CamVid test (train/EXPERIMENTS.md, R1). subsample=4 fits the
# filter's coefficients on a 4x coarser grid (fast guided filter): 5x cheaper, same IoU (R3). trust
# keeps the network's own probability where its confidence |2p-1| is above 0.995 (the filter's below
# 0.95): the filter alone caps even a perfect network at 93.5 CamVid IoU; eps 1e-4 with it (R8).
# learned: a logistic regression that re-decides the uncertain band from grey and local contrast
# (R11), fitted on the training splits with the served INT8 network by
# `skyseg fit-refine --onnx model_repository/bisenetv2/1/model.int8.onnx` (refit it with the model).
# On by default since its features are gathered on the band's pixels only (1-3% of a canvas under an
# open sky, 8-11% on CamVid): +0.33 CamVid / +1.29 Cityscapes / +1.60 ADE20K IoU for 0.25-0.7 ms per image (~0.9 ms as whole
# planes, which kept it off). `learned=()` turns it off; then `skyseg export`, `quantize`, `build-repo`.
# margin, refined, grey, contrast5, contrast20, refined*grey, margin*grey, refined*contrast20, bias
LEARNED_R11 = (2.4723, 2.7422, 1.2066, -1.3761, 3.5584, -0.2122, 1.0088, 1.1672, -0.9947)
# cascade: where R11's logit is within +-2 (~40% of the band), a 14-16-16-1 MLP on R11's features
# and the grey's local max / min in 5, 9 and 17 px windows decides instead (R16): +0.32 CamVid test
# IoU and +0.038 boundary F1 for ~1 ms per image. Fitted with R11 by `skyseg fit-refine ... --cascade
# train/weights/bisenetv2_sky_384x512.cascade.json` (a path from the project root); None turns it off.
CASCADE_R16 = 'train/weights/bisenetv2_sky_384x512.cascade.json'
sky_refine = dict(radius=48, eps=1e-4, subsample=4, trust=(0.95, 0.995), learned=LEARNED_R11, cascade=CASCADE_R16)
dataset_type = 'SkyDataset'
num_classes = 2

norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],  # RGB, ImageNet statistics in 0..255
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size,
    # Test time: no fixed canvas, only padding to a multiple of the backbone's stride (32), so a 16:9
    # image runs at 288x512. The server does the same (`size_divisor` in the serving contract).
    test_cfg=dict(size_divisor=32))


def _aux_head(in_channels, channels, in_index):
    return dict(
        type='FCNHead', in_channels=in_channels, channels=channels, num_convs=2,
        num_classes=num_classes, in_index=in_index, norm_cfg=norm_cfg, concat_input=False,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0))


model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='BiSeNetV2',
        detail_channels=(64, 64, 128),
        semantic_channels=(16, 32, 64, 128),
        semantic_expansion_ratio=6,
        bga_channels=128,
        out_indices=(0, 1, 2, 3, 4),
        init_cfg=None,  # trained from scratch: nothing is downloaded
        norm_cfg=norm_cfg,
        align_corners=False),
    decode_head=dict(
        type='FCNHead',
        in_channels=128,
        in_index=0,
        channels=256,  # 1024 in the 19-class recipe; 2 classes need far less, and it is 1/3 of the FLOPs
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    # Training-only deep supervision; `skyseg export` drops them.
    auxiliary_head=[
        _aux_head(16, 16, 1),
        _aux_head(32, 64, 2),
        _aux_head(64, 256, 3),
        _aux_head(128, 256, 4),
    ],
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(input_size[1], input_size[0]), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(input_size[1], input_size[0]), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]


def _split(name, pipeline):
    return dict(type=dataset_type, data_root=data_root,
                data_prefix=dict(img_path=f'{name}/images', seg_map_path=f'{name}/masks'),
                pipeline=pipeline)


# CamVid test and the held-out 20% of cityscapes_sky / ade20k_sky are never trained on.
train_splits = ['camvid_train', 'camvid_val', 'cityscapes_sky', 'ade20k_sky']
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='ConcatDataset', datasets=[_split(s, train_pipeline) for s in train_splits]))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = dict(
    batch_size=1,
    num_workers=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_split('camvid_test', test_pipeline))
test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_cfg = dict(type='TestLoop')

max_iters = 2000
optimizer = dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0005)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end=100),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=100, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)

default_scope = 'mmseg'
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=200, max_keep_ckpts=2,
                    save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
custom_imports = dict(imports=['skyseg.train.datasets', 'skyseg.train.hooks'], allow_failed_imports=False)
custom_hooks = [dict(type='SkySegProgressBarHook')]
randomness = dict(seed=0)
del _aux_head, _split  # helpers only; mmengine would keep them as config values
