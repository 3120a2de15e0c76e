"""Training side: datasets, converters, MMSeg configs, training and evaluation."""
