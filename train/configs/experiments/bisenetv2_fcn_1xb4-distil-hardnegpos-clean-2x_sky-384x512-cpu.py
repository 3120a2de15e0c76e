# E43, E41's recipe over twice the wall time (one change: TimedPolyLR over 6600 s instead of 3300).
# Every CPU run so far had 55 minutes, and E33-E42 read as a tug of war over one feature: the
# attic's pale ceiling, a tennis-hall roof and a cumulus cloud look alike to this network, so each
# negative that clears the rooms takes clouds too. E4 showed the network underfits at these
# budgets. Does twice the compute let it separate them (false sky down with the clouds kept)?
#   (E40's steps), then
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-hardnegpos-clean-2x_sky-384x512-cpu.py \
#       --work-dir work_dirs/e43 --amp        # resumable: run the same command again to continue
_base_ = ['./bisenetv2_fcn_1xb4-distil-hardnegpos-clean_sky-384x512-cpu.py']

cpu_seconds = 6600
custom_hooks = [dict(type='SkySegProgressBarHook'), dict(type='TimedPolyLR', seconds=cpu_seconds)]
