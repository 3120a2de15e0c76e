"""Sky replacement: put a new sky behind the foreground a sky mask separates.

The mask's hard edge is feathered into a soft matte (a few pixels, in proportion to the image), the
new sky is scaled to cover the sky region and cropped from its top, and the foreground's colour is
nudged toward the new sky's light, so that a noon street under a sunset does not look cut out.
"""
from __future__ import annotations

import cv2
import numpy as np

#: The matte's blur as a fraction of the diagonal (at least 1 px). Against ADE20K's soft sky masks
#: (``python -m benchmarks.matte``) 0.1% blends with less colour error along the edge than 0.2% or a
#: hard edge, and the served probability before its threshold does no better than the mask.
FEATHER_FRACTION = 0.001


def sky_matte(mask: np.ndarray, feather: float | None = None) -> np.ndarray:
    """Float32 matte in 0..1 from a 0/255 mask: the edge blurred over ``feather`` px (default
    :data:`FEATHER_FRACTION` of the image's diagonal, at least 1 px), so thin branches blend instead of cutting out."""
    if feather is None:
        feather = max(1.0, FEATHER_FRACTION * float(np.hypot(*mask.shape[:2])))
    matte = (mask > 127).astype(np.float32)
    return cv2.GaussianBlur(matte, (0, 0), feather) if feather > 0 else matte


def cover(sky_bgr: np.ndarray, width: int, height: int) -> np.ndarray:
    """``sky_bgr`` scaled (aspect kept) to cover ``width`` x ``height``, cropped centred from its top:
    a sky photo's horizon is at its bottom, which the foreground hides."""
    scale = max(width / sky_bgr.shape[1], height / sky_bgr.shape[0])
    size = (max(width, round(sky_bgr.shape[1] * scale)), max(height, round(sky_bgr.shape[0] * scale)))
    resized = cv2.resize(sky_bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    left = (size[0] - width) // 2
    return resized[:height, left:left + width]


def replace_sky(image_bgr: np.ndarray, mask: np.ndarray, sky_bgr: np.ndarray, feather: float | None = None,
                harmonize: float = 0.3) -> np.ndarray:
    """``image_bgr`` with the sky of ``mask`` (uint8, 255 = sky, the image's size) replaced by ``sky_bgr``.

    ``harmonize`` is the share of the change in the sky's mean colour (Lab: its light, and half as
    much of its lightness) that the foreground takes on; 0 leaves the foreground untouched.
    """
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or sky_bgr.ndim != 3 or sky_bgr.shape[2] != 3:
        raise ValueError(f"images must be HxWx3 BGR, got {image_bgr.shape} and {sky_bgr.shape}")
    if mask.shape[:2] != image_bgr.shape[:2]:
        raise ValueError(f"mask {mask.shape[:2]} does not match image {image_bgr.shape[:2]}")
    sky = mask > 127
    if not sky.any():
        return image_bgr.copy()
    height, width = image_bgr.shape[:2]
    bottom = int(np.nonzero(sky.any(axis=1))[0][-1]) + 1
    new_sky = np.empty_like(image_bgr)
    new_sky[:bottom] = cover(sky_bgr, width, bottom)
    new_sky[bottom:] = new_sky[bottom - 1]  # only the feathered edge below the last sky row reads it
    lab = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    new_lab = cv2.cvtColor(new_sky[:bottom], cv2.COLOR_BGR2LAB).astype(np.float32)
    shift = new_lab[sky[:bottom]].mean(axis=0) - lab[sky].mean(axis=0)
    lab += harmonize * shift * np.float32([0.5, 1.0, 1.0])
    foreground = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR).astype(np.float32)
    matte = sky_matte(mask, feather)[..., None]
    return np.clip(matte * new_sky + (1.0 - matte) * foreground, 0, 255).astype(np.uint8)
