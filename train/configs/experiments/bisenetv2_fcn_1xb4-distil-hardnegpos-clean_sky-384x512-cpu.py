# E41, E40 with the teacher's reviewed label errors left out of training (one change): 27
# sun_outdoor photos (train/teacher_label_errors.txt) where a person found the teacher's label
# wrong: 14 call sea, snow or mist sky, 13 call a grey, pale or cloudy sky (white cumulus among
# them) *not sky*. The second kind teaches exactly what field_annarbor.mp4 loses.
#   (E40's steps), then
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-hardnegpos-clean_sky-384x512-cpu.py \
#       --work-dir work_dirs/e41 --amp
_base_ = ['./bisenetv2_fcn_1xb4-distil-hardnegpos_sky-384x512-cpu.py']

train_dataloader = dict(dataset=dict(exclude='train/teacher_label_errors.txt'))
