"""Wire contract of the skyseg service: model and tensor names clients see, and the mask's encoding.

Defined once here; ``skyseg build-repo`` imports these names to write the ensembles' config.pbtxt.
"""
import numpy as np

ENSEMBLE = "sky_segmentation"  #: encoded image bytes in, mask out
ENSEMBLE_RAW = "sky_segmentation_raw"  #: decoded RGB frame in, mask out (video clients)
#: The same two with the plain MASK out instead of MASK_BITS + MASK_SIZE (curl, perf_analyzer and
#: plain tritonclient users). Separate ensembles, because a Triton 2.51 ensemble asks its steps for
#: every output it maps, whatever the client requested: in one ensemble the postprocess would pay
#: for both forms on every request.
ENSEMBLE_MASK = "sky_segmentation_mask"
ENSEMBLE_RAW_MASK = "sky_segmentation_raw_mask"
IMAGE = "IMAGE"  #: BYTES [batch, 1]: one JPEG/PNG/BMP/WebP file per item
FRAME = "FRAME"  #: UINT8 [batch, H, W, 3], RGB
#: UINT8 [batch, H, ceil(W/8)]: the sky mask at the input's own size, one bit per pixel (1 = sky),
#: each row packed most significant bit first (``np.packbits(mask, axis=-1)``: the server's
#: ``skyseg_ops.pack_mask``). A 1080p mask is 259 KB instead of 2 MB on the socket, which took
#: 2.9 of the 4.6 core-ms per image that gRPC cost client and server (benchmarks/RESULTS.md);
#: :func:`unpack_mask` restores it.
MASK_BITS = "MASK_BITS"
MASK_SIZE = "MASK_SIZE"  #: INT32 [batch, 2]: the mask's (H, W), which MASK_BITS alone cannot tell
MASK = "MASK"  #: UINT8 [batch, H, W]: the plain mask, 0 = not sky, 255 = sky (the *_mask ensembles)
MAX_BATCH_SIZE = 8
SKY_VALUE = 255


def packed_width(width: int) -> int:
    """Bytes per MASK_BITS row for a mask ``width`` pixels wide: ceil(width / 8)."""
    return -(-int(width) // 8)


def unpack_mask(bits: np.ndarray, width: int) -> np.ndarray:
    """MASK_BITS of one image (H, ceil(W/8)) -> uint8 (H, W) mask, 0 = not sky, 255 = sky."""
    mask = np.unpackbits(bits, axis=-1, count=int(width))
    np.negative(mask, out=mask)  # 1 -> 255 in uint8: a quarter cheaper than multiplying (0.17 -> 0.13 ms at 1080p)
    return mask
