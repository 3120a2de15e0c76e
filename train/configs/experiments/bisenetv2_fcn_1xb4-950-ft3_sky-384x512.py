# A candidate stage 4 (train/EXPERIMENTS.md, E6; not adopted): stage 3's recipe once more from
# stage 3's weights, sized (950 iterations, 29 min) to keep stages 1-4 inside the 3-hour CPU
# budget (stages 1-3: 147 min). Stage 3 gained 0.4 CamVid IoU in 2000 iterations and still
# underfit; this measured whether a shorter warm restart keeps paying. It did not.
_base_ = ['../bisenetv2_fcn_1xb4-2k-ft2_sky-384x512.py']

load_from = 'work_dirs/ft2/iter_2000.pth'  # stage 3 (with its auxiliary heads)

max_iters = 950
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end=50),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=50, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
