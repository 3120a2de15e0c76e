"""Class names and label values on disk: the contract's class order, and what the converters, the
dataset and the metrics write and read."""
NOT_SKY, SKY, IGNORE = 0, 1, 255
CLASSES = ("not_sky", "sky")
