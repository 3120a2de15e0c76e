# E22: E16b's recipe run again unchanged (MMEngine draws a new seed), beside E21: the run-to-run
# spread that any single-run difference on the 50 choosing photos has to beat.
_base_ = ['../bisenetv2_fcn_1xb16-distil_sky-384x512-gpu.py']
