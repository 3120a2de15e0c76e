# E34, E33 at half the dose: the mined hard negatives drawn 2 more times per epoch instead of 4
# (one change). E33 took the false sky off ADE20K's no-sky images (0.04%) but lost dev skies
# (88.85 -> 82.46 against E30) and most of field_annarbor.mp4's cumulus: the pale ceilings it was
# shown four times more often pulled white clouds with them. Is there a dose that keeps both?
#   skyseg mine-negatives
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-hardneg2_sky-384x512-cpu.py \
#       --work-dir work_dirs/e34 --amp
_base_ = ['./bisenetv2_fcn_1xb4-distil-hardneg_sky-384x512-cpu.py']

train_dataloader = dict(dataset=dict(split_weights=dict(hard_negatives=2)))
