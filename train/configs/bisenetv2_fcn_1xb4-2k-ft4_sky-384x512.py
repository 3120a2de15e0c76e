# Stage 4 (train/EXPERIMENTS.md, E7): stage 3's recipe continued from the shipped network at a
# quarter of its learning rate, with no warm restart. E6 showed that a restart at stage 3's 0.01
# moves the network around its basin (CamVid -0.1, ADE20K -7.5); a low rate only descends it.
# Starts from the inference checkpoint (train/weights), which has no auxiliary heads: fresh random
# heads would send large gradients into the backbone at the start, so this stage trains without them.
# E7 itself was not adopted, but this config stays beside the shipped recipe: stage 5
# (bisenetv2_fcn_1xb16-distil_sky-384x512-gpu.py) inherits it (no auxiliary heads).
_base_ = ['./bisenetv2_fcn_1xb4-2k-ft2_sky-384x512.py']

load_from = 'train/weights/bisenetv2_sky_384x512.pth'

model = dict(auxiliary_head=None)
max_iters = 2000
optim_wrapper = dict(optimizer=dict(lr=0.0025))
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=0.1, begin=0, end=50),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
