"""Wire contract of the skyseg service: model and tensor names clients see.

Defined once here; ``skyseg build-repo`` imports these names to write the ensembles' config.pbtxt.
"""
ENSEMBLE = "sky_segmentation"  #: encoded image bytes in, mask out
ENSEMBLE_RAW = "sky_segmentation_raw"  #: decoded RGB frame in, mask out (video clients)
IMAGE = "IMAGE"  #: BYTES [batch, 1]: one JPEG/PNG/BMP/WebP file per item
FRAME = "FRAME"  #: UINT8 [batch, H, W, 3], RGB
MASK = "MASK"  #: UINT8 [batch, H, W], the input's own size; 0 = not sky, 255 = sky
MAX_BATCH_SIZE = 8
SKY_VALUE = 255
