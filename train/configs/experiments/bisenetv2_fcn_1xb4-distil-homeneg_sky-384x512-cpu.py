# E37, E30 with ADE20K's 47 sky-free training photos drawn 4 more times per epoch (one change).
# They are home interiors with human labels (bedrooms, bathrooms, living rooms, kitchens): pale walls
# beside bright windows, the picture of the attic and bedroom photos that hold the recipe's false sky
# on ADE20K's held-out no-sky images. E33 drew the served model's 64 worst sky-free scenes instead,
# mostly tennis-hall roofs and gallery ceilings, and lost the cumulus of field_annarbor.mp4 with them:
# white, evenly lit regions are what a cloud looks like to this network; a wall beside a window is not.
#   skyseg mine-negatives --splits ade20k_sky --top 100 --out ade20k_skyfree   # all 47, ranked
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-homeneg_sky-384x512-cpu.py \
#       --work-dir work_dirs/e37 --amp
_base_ = ['./bisenetv2_fcn_1xb4-distil-hallsskyfree_sky-384x512-cpu.py']

train_dataloader = dict(dataset=dict(split_weights=dict(ade20k_skyfree=4)))
