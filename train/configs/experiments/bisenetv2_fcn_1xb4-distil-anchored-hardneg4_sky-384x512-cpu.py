# E45, learning the rooms without forgetting the skies (train/anchor.py, AnchoredEncoderDecoder):
# every outdoor photo is labelled by a frozen copy of the starting network (sky where p >= 0.7, not
# sky where p <= 0.3, ignored between), the indoor photos keep their human labels (no sky), and the
# mined negatives (SUN libraries and galleries, the tennis halls, ADE20K rooms) are drawn at E33's
# dose, x4, the dose that cleared the rooms and, with teacher labels, cost the cumulus. The start and
# the anchor is the soup of five CPU runs (E37, E39, E40, E41, E43: dev 90.0 per photo, the cumulus
# kept, 0.68% false sky on the rooms): training can only move it where a room's label disagrees.
#   (E40's steps: skyseg mine-negatives --replay train/mined/hard_negatives.json;
#    skyseg mine-positives --replay train/mined/hard_positives_e34.json --out hard_positives), then
#   skyseg soup work_dirs/e37/iter_3378.pth work_dirs/e39/iter_3489.pth work_dirs/e40/iter_3754.pth \
#       work_dirs/e41/iter_3741.pth work_dirs/e43/iter_7154.pth --out work_dirs/anchor.pth
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-anchored-hardneg4_sky-384x512-cpu.py \
#       --work-dir work_dirs/e45 --amp
_base_ = ['./bisenetv2_fcn_1xb4-distil-hardnegpos-clean_sky-384x512-cpu.py']

anchor = 'work_dirs/anchor.pth'
load_from = anchor

custom_imports = dict(
    imports=['skyseg.train.datasets', 'skyseg.train.hooks', 'skyseg.train.transforms', 'skyseg.train.anchor'],
    allow_failed_imports=False)

model = dict(type='AnchoredEncoderDecoder', anchor=anchor, confident=0.7)

train_dataloader = dict(dataset=dict(
    split_weights=dict(hard_negatives=4),
    scenes=dict(
        indoor=('sun_indoor', 'sun_mixed_skyfree', 'hard_negatives'),
        outdoor=('camvid_train', 'camvid_val', 'cityscapes_sky', 'idd_train', 'sun_outdoor'),
        mixed=('ade20k_sky', 'hard_positives'),
        indoor_photos='train/indoor_photos.txt')))
