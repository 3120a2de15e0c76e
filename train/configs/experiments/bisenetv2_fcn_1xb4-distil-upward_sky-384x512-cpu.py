# E24, E23 with the street frames re-framed as if the camera looked up (UpwardView, p 0.3): the
# bottom 20-50% of a CamVid, Cityscapes or IDD-Lite frame cut away and its bottom row narrowed by
# 5-20% a side, so facades lean in and the sky becomes the narrow wedge between them that
# ade20k_dev's missed city photos show. One change against E23 (same data, schedule, seed, CPU):
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-upward_sky-384x512-cpu.py \
#       --work-dir work_dirs/e24 --amp
_base_ = ['./bisenetv2_fcn_1xb4-distil-iddall_sky-384x512-cpu.py']

train_dataloader = dict(dataset=dict(augment=dict(
    upward=dict(type='UpwardView', before='RandomResize', prob=0.3,
                splits=('camvid_train', 'camvid_val', 'cityscapes_sky', 'idd_train')))))
custom_imports = dict(imports=['skyseg.train.datasets', 'skyseg.train.hooks', 'skyseg.train.transforms'],
                      allow_failed_imports=False)
