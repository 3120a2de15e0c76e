# Stage 5, the distillation recipe (train/EXPERIMENTS.md, E16): the shipped network continued on a
# lent GPU with every human-labelled training set plus photos labelled by a sky teacher, so it
# learns the blue, dusk and sunset skies over fields, sea and mountains that the street sets never
# show (issue: "Sky on every outdoor photo"). Human labels win where they exist: the teacher labels
# only SUN397 photos no person labelled (`skyseg pseudo-label`, then `skyseg prepare-data`).
# Batch 16, a poly learning rate over wall time (TimedPolyLR: the schedule completes inside one
# device call whatever the machine's speed), float16 AMP (automatic on CUDA in `skyseg train`).
# The shipped stage 5 is this run for 230 s on an H200 (E16b: 2293 iterations), pulled a tenth of
# the way back to stage 3's weights: `skyseg interpolate <stage 3> <E16b> --alpha 0.9` (WiSE-FT).
_base_ = ['./bisenetv2_fcn_1xb4-2k-ft4_sky-384x512.py']

# Stage 5 started from stage 3's weights, the file here until 2026-12-04
# (`git show a37c83a:train/weights/bisenetv2_sky_384x512.pth`); now this path holds stage 5 itself.
load_from = 'train/weights/bisenetv2_sky_384x512.pth'  # an inference checkpoint (no auxiliary heads)
gpu_seconds = 230  # wall time of the schedule; `--cfg-options '{"custom_hooks.1.seconds": ...}'` changes it

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 384), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(384, 512), cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
# Human-labelled street and scene sets, then the teacher's (sun_outdoor: ocean, mountain, garden;
# sun_mixed: tennis courts) and sky-free indoor scenes (sun_indoor: libraries, galleries, labelled
# by their category). Teacher-labelled photos are ~30% of the samples.
train_dataloader = dict(
    batch_size=16, num_workers=7,
    dataset=dict(pipeline=train_pipeline, split_weights=dict(
        camvid_train=2, camvid_val=1, cityscapes_sky=1, ade20k_sky=2, idd_train=1,
        sun_outdoor=2, sun_mixed=1, sun_indoor=1)))

optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = None  # TimedPolyLR sets the rate
max_iters = 1000000  # never reached: TimedPolyLR ends the run
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=100000, max_keep_ckpts=1))
custom_hooks = [dict(type='SkySegProgressBarHook'), dict(type='TimedPolyLR', seconds=gpu_seconds)]
env_cfg = dict(cudnn_benchmark=True)
