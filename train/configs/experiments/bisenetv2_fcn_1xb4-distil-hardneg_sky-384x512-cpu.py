# E33, E30 with hard-negative mining: the 64 sky-free training scenes (SUN indoor, the SUN tennis
# halls, ADE20K's sky-free photos) in which the shipped model sees the most sky, drawn 4 more times
# per epoch (one change). The false sky the recipe leaves on ADE20K's attic is a pale wall that the
# network's features put among the overcast skies of hundreds of training photos; only a few dozen
# negatives look like it, and drawing every indoor scene twice instead (E27) cost dev skies.
#   skyseg mine-negatives   # the shipped FP32 model -> data/sky/hard_negatives (+ mined.json)
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-hardneg_sky-384x512-cpu.py \
#       --work-dir work_dirs/e33 --amp
_base_ = ['./bisenetv2_fcn_1xb4-distil-hallsskyfree_sky-384x512-cpu.py']

train_dataloader = dict(dataset=dict(split_weights=dict(hard_negatives=4)))
