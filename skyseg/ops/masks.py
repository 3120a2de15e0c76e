"""Logits -> the mask at the image's original size, and the mask's bit-packed wire form."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from .refinement import Refinement, _sky_margin, refine


def logits_to_mask(logits: np.ndarray, geometry: Sequence[int], canvas_hw: Sequence[int],
                   sky_index: int = 1, guide: np.ndarray | None = None,
                   refinement: Refinement | None = None) -> np.ndarray:
    """(C, h, w) logits at the model's output stride -> uint8 mask (0/255) at the original size.

    ``canvas_hw`` is the (H, W) of the tensor the network saw (:func:`canvas_size`).

    With a ``guide`` and an enabled ``refinement`` the probability is first refined at the input
    resolution (:func:`refine`), then upsampled as uint8. Without, the sky-minus-best-other logit
    margin is upsampled: bilinear upsampling is linear, so thresholding it at 0 equals upsampling
    every channel and taking the argmax (for two classes), at a fraction of the cost; one affine
    warp maps each original pixel centre straight into the logit grid (align_corners=False).
    """
    orig_h, orig_w, rh, rw = (int(v) for v in geometry)
    if guide is not None and refinement is not None and refinement.enabled:
        probability = refine(logits, guide, geometry, canvas_hw, sky_index, refinement)
        if probability.shape != (orig_h, orig_w):
            probability = cv2.resize(probability, (orig_w, orig_h), interpolation=cv2.INTER_LINEAR)
        return cv2.threshold(probability, 127, 255, cv2.THRESH_BINARY)[1]
    margin = _sky_margin(logits, sky_index)
    stride_y = canvas_hw[0] / logits.shape[1]
    stride_x = canvas_hw[1] / logits.shape[2]
    ky, kx = (rh / orig_h) / stride_y, (rw / orig_w) / stride_x
    matrix = np.array([[kx, 0.0, 0.5 * kx - 0.5], [0.0, ky, 0.5 * ky - 0.5]], dtype=np.float64)
    upsampled = cv2.warpAffine(margin, matrix, (orig_w, orig_h),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)
    return cv2.threshold(upsampled, 0.0, 255.0, cv2.THRESH_BINARY)[1].astype(np.uint8)


def pack_mask(masks: np.ndarray) -> np.ndarray:
    """(..., H, W) 0/255 masks -> (..., H, ceil(W/8)) bits, rows packed MSB first: the wire's
    MASK_BITS (skyseg_client.protocol), 8x fewer bytes through Triton and the socket."""
    return np.packbits(masks, axis=-1)
