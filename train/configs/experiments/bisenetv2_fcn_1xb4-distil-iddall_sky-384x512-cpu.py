# E23, a CPU continuation of the shipped network (2026-12-05, no GPU lent): stage 5's mix with all
# 1403 IDD-Lite training frames instead of the 200 the GPU bundle could carry (Indian streets under
# hazy, washed-out skies between buildings: the kind ade20k_dev's missed photos show), and the 400
# sky-free SUN indoor scenes instead of 120. Licence-clean: only the sets the shipped model already
# uses. Batch 4 on the CPU (the GPU recipe's rate scaled by 4/16), a poly rate over the wall time
# (TimedPolyLR), bfloat16 autocast with `--amp`:
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-iddall_sky-384x512-cpu.py \
#       --work-dir work_dirs/e23 --amp
# then `skyseg interpolate train/weights/bisenetv2_sky_384x512.pth work_dirs/e23/<last>.pth --alpha A`.
_base_ = ['../bisenetv2_fcn_1xb16-distil_sky-384x512-gpu.py']  # its load_from: the shipped weights

cpu_seconds = 3300

train_dataloader = dict(batch_size=4, num_workers=2)
optim_wrapper = dict(optimizer=dict(lr=0.0025))
custom_hooks = [dict(type='SkySegProgressBarHook'), dict(type='TimedPolyLR', seconds=cpu_seconds)]
env_cfg = dict(cudnn_benchmark=False)
