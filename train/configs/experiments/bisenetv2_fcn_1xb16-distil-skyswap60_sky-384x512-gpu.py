# E20: E19 with 60% of the human-labelled skies swapped, to measure how much of the swap pays.
_base_ = ['./bisenetv2_fcn_1xb16-distil-skyswap_sky-384x512-gpu.py']

train_dataloader = dict(dataset=dict(augment=dict(skyswap=dict(prob=0.6))))
