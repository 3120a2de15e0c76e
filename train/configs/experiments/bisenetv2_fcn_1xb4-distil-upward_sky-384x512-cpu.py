# E24, E23 with the street frames re-framed as if the camera looked up (UpwardView, p 0.3): the
# bottom 20-50% of a CamVid, Cityscapes or IDD-Lite frame cut away and its bottom row narrowed by
# 5-20% a side, so facades lean in and the sky becomes the narrow wedge between them that
# ade20k_dev's missed city photos show. One change against E23 (same data, schedule, seed, CPU):
#   skyseg train train/configs/experiments/bisenetv2_fcn_1xb4-distil-upward_sky-384x512-cpu.py \
#       --work-dir work_dirs/e24 --amp
_base_ = ['./bisenetv2_fcn_1xb4-distil-iddall_sky-384x512-cpu.py']

upward_prob = 0.3
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='UpwardView', prob=upward_prob, splits=('camvid_train', 'camvid_val', 'cityscapes_sky', 'idd_train')),
    dict(type='RandomResize', scale=(512, 384), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(384, 512), cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_imports = dict(imports=['skyseg.train.datasets', 'skyseg.train.hooks', 'skyseg.train.transforms'],
                      allow_failed_imports=False)
