# E40, E34 with hard positives beside its hard negatives (one change): the 64 training photos
# (SUN outdoor, ADE20K) whose sky E34's network misses most, a person's review of the teacher's
# labels applied first, drawn 2 more times per epoch. E33-E34's mined tennis-hall roofs were the
# only negatives that took the false sky off ADE20K's attic, and they cost field_annarbor.mp4 its
# cumulus: to the network a pale roof and a cloud underside look alike. E34's own misses are
# those skies (sunsets, cumulus over the sea, pale skies); shown beside the roofs, the loss sees
# both sides of the boundary it has to draw.
#   skyseg mine-negatives                               # the shipped model -> hard_negatives (E33)
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-hardneg2_sky-384x512-cpu.py \
#       --work-dir work_dirs/e34 --amp                  # E34
#   skyseg export work_dirs/e34/iter_<last>.pth --config <E34 config> --out e34.onnx
#   skyseg mine-positives --onnx e34.onnx --exclude train/teacher_label_errors.txt
#   (or, without E34: skyseg mine-negatives --replay train/mined/hard_negatives.json and
#    skyseg mine-positives --replay train/mined/hard_positives_e34.json --out hard_positives)
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-hardnegpos_sky-384x512-cpu.py \
#       --work-dir work_dirs/e40 --amp
_base_ = ['./bisenetv2_fcn_1xb4-distil-hardneg2_sky-384x512-cpu.py']

train_dataloader = dict(dataset=dict(split_weights=dict(hard_positives=2)))
