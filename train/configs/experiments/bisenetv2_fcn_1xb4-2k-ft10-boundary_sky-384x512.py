# Candidate stage 4 (train/EXPERIMENTS.md, E14): E7's low-rate continuation of the shipped network
# (stage 3's data mix, SGD 0.0025, no restart, no auxiliary heads) with the decode head's
# cross-entropy weighted 4x within 4 px of the sky boundary (`BoundaryWeightedCELoss`,
# train/losses.py), where three quarters of CamVid test's wrong pixels are. Lovasz stays.
# E7 is the control: the same run with plain cross-entropy.
_base_ = ['../bisenetv2_fcn_1xb4-2k-ft4_sky-384x512.py']

custom_imports = dict(imports=['skyseg.train.datasets', 'skyseg.train.hooks', 'skyseg.train.losses'],
                      allow_failed_imports=False)

model = dict(decode_head=dict(loss_decode=[
    dict(type='BoundaryWeightedCELoss', radius=4, boost=3.0, loss_weight=1.0),
    dict(type='LovaszLoss', loss_type='multi_class', classes='present', per_image=False,
         reduction='none', loss_weight=1.0),
]))
