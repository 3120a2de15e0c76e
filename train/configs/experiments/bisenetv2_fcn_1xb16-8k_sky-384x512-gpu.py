# GPU recipe (train/EXPERIMENTS.md, "GPU recipe"): the stage-2 recipe (whole 384x512 frames,
# CE + Lovasz, ADE20K weighted x2) trained from scratch in one go, batch 16, 8k iterations, AMP
# (`skyseg train` switches to AmpOptimWrapper on CUDA). Written for a lent H100/H200; not yet run
# on one (no GPU was lent when it was written).
_base_ = ['../bisenetv2_fcn_1xb4-1.6k-ft_sky-384x512.py']

load_from = None  # from scratch: the GPU affords the full schedule
train_dataloader = dict(batch_size=16, num_workers=8)
max_iters = 8000
optim_wrapper = dict(optimizer=dict(lr=0.05))  # merged into stage 2's SGD
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end=500),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=500, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=1000, max_keep_ckpts=2))
