# Stage 3 of the default recipe (train/EXPERIMENTS.md, E4): stage 2's recipe run once more from
# stage 2's weights (a warm restart of the poly schedule), because stage 2's model still underfits:
# it scores 92.0 sky IoU on the CamVid *training* images it was fitted to, about what it scores
# on unseen CamVid test (90.5), so the network needs more updates, not more regularisation.
_base_ = ['./bisenetv2_fcn_1xb4-1.6k-ft_sky-384x512.py']

load_from = 'work_dirs/ft/iter_1600.pth'  # stage 2 (with its auxiliary heads); --cfg-options may point elsewhere

max_iters = 2000
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end=50),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=50, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
