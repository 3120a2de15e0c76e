"""Label values on disk, shared by the converters, the dataset and the metrics."""
NOT_SKY, SKY, IGNORE = 0, 1, 255
CLASSES = ("not_sky", "sky")
