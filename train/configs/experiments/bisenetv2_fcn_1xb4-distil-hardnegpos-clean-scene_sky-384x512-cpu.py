# E44, E41 with an indoor/outdoor head on the backbone's global context (one change; train/heads.py,
# SceneHead): a pale wall or an attic's ceiling looks, pixel for pixel, like a washed-out white sky,
# and every run that taught the network one cost it the other (E33-E43). BiSeNetV2 adds the global
# average of its semantic branch's last stage to every pixel; the head makes "this is a room" part
# of that average. Training only: `skyseg export` drops it, the served network is unchanged.
# Scene labels: the indoor and outdoor splits by their source, ade20k_sky and hard_positives photo by
# photo from the reviewed train/indoor_photos.txt.
#   (E40's steps: skyseg mine-negatives --replay train/mined/hard_negatives.json;
#    skyseg mine-positives --replay train/mined/hard_positives_e34.json --out hard_positives), then
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-hardnegpos-clean-scene_sky-384x512-cpu.py \
#       --work-dir work_dirs/e44 --amp
_base_ = ['./bisenetv2_fcn_1xb4-distil-hardnegpos-clean_sky-384x512-cpu.py']

custom_imports = dict(
    imports=['skyseg.train.datasets', 'skyseg.train.hooks', 'skyseg.train.transforms', 'skyseg.train.heads'],
    allow_failed_imports=False)

model = dict(auxiliary_head=dict(_delete_=True, type='SceneHead', in_channels=128, in_index=4, loss_weight=0.4))

train_dataloader = dict(dataset=dict(scenes=dict(
    indoor=('sun_indoor', 'sun_mixed_skyfree', 'hard_negatives'),
    outdoor=('camvid_train', 'camvid_val', 'cityscapes_sky', 'idd_train', 'sun_outdoor'),
    mixed=('ade20k_sky', 'hard_positives'),
    indoor_photos='train/indoor_photos.txt')))
