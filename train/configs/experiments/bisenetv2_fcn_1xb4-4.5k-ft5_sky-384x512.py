# Candidate stage 4 (train/EXPERIMENTS.md, E9): stage 3's warm restart (SGD 0.01 after a warm-up,
# poly) run for 4500 iterations from the shipped network. E4's 2000 iterations gained +0.4 CamVid
# IoU; E6's 950 lost 0.1-0.2 because the restart's high rate had no time to descend again; E7's
# low rate alone did not move. This gives the restart twice E4's length, affordable on CPUs with
# native bfloat16 (`skyseg train --amp`: 50 min on a Zen 5). From E7's config: the inference
# checkpoint as the start, no auxiliary heads (it has none to load).
_base_ = ['../bisenetv2_fcn_1xb4-2k-ft4_sky-384x512.py']

max_iters = 4500
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end=100),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=100, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=2))
