"""Class names and label values on disk: the contract's class order, and what the converters, the
dataset and the metrics write and read."""
NOT_SKY, SKY, IGNORE = 0, 1, 255
CLASSES = ("not_sky", "sky")
#: Soft (teacher-probability) masks: value v in 0..SOFT_SCALE is p(sky) = v / SOFT_SCALE, IGNORE
#: (255) stays ignore. A split written this way is trained on only as a ``soft`` split (train/heads.py).
SOFT_SCALE = 254
