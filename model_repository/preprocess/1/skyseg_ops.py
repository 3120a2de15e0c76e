"""Pure numpy/OpenCV image ops shared by the Triton Python models and the offline eval paths.

This file is the single implementation of decode -> letterbox -> normalise and of
logits -> full-resolution mask. The Python models import it from their own folder (symlinks in
``preprocess_raw`` and ``postprocess`` point here); ``skyseg.ops`` loads it for ONNX Runtime and
PyTorch evaluation, so every path computes the same thing.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import cv2
import numpy as np

#: (original_h, original_w, resized_h, resized_w): what postprocess needs to undo the letterbox.
Geometry = Tuple[int, int, int, int]


class BadImageError(ValueError):
    """The request's image cannot be used; the message is sent back to the caller."""


def decode_image(data: bytes, input_name: str = "IMAGE") -> np.ndarray:
    """Encoded bytes -> RGB uint8 HxWx3. EXIF orientation is applied, as viewers show the image."""
    if len(data) == 0:
        raise BadImageError(f"{input_name} is empty (0 bytes)")
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        head = bytes(data[:8]).hex()
        raise BadImageError(f"{input_name} could not be decoded: {len(data)} bytes starting {head} "
                            "are not a complete JPEG, PNG, BMP or WebP image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def check_frame(frame: np.ndarray, input_name: str = "FRAME") -> np.ndarray:
    """Validate a decoded RGB frame (H, W, 3) uint8."""
    if frame.dtype != np.uint8:
        raise BadImageError(f"{input_name} must be UINT8, got {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] < 1 or frame.shape[1] < 1:
        raise BadImageError(f"{input_name} must have shape [H, W, 3], got {list(frame.shape)}")
    return frame


def letterbox(rgb: np.ndarray, input_hw: Sequence[int], mean: np.ndarray, std: np.ndarray,
              out: np.ndarray | None = None) -> Tuple[np.ndarray, Geometry]:
    """Resize keeping the aspect ratio into the top-left of an (H, W) canvas and normalise to CHW.

    The padding is 0 after normalisation (the mean colour), as MMSeg pads its batches.
    """
    in_h, in_w = int(input_hw[0]), int(input_hw[1])
    h, w = rgb.shape[:2]
    scale = min(in_h / h, in_w / w)
    rh, rw = max(1, min(in_h, int(h * scale + 0.5))), max(1, min(in_w, int(w * scale + 0.5)))
    resized = cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_LINEAR) if (rh, rw) != (h, w) else rgb
    if out is None:
        out = np.zeros((3, in_h, in_w), dtype=np.float32)
    else:
        out.fill(0.0)
    normalised = (resized.astype(np.float32) - mean) / std
    out[:, :rh, :rw] = normalised.transpose(2, 0, 1)
    return out, (h, w, rh, rw)


def logits_to_mask(logits: np.ndarray, geometry: Sequence[int], input_hw: Sequence[int],
                   sky_index: int = 1) -> np.ndarray:
    """(C, h, w) logits at the model's output stride -> uint8 mask (0/255) at the original size.

    Bilinear upsampling is linear, so upsampling the sky-minus-best-other logit margin and
    thresholding at 0 equals upsampling every channel and taking the argmax (for two classes),
    at a fraction of the cost. One affine warp maps each original pixel centre straight into the
    logit grid (align_corners=False), skipping the intermediate model-resolution map.
    """
    orig_h, orig_w, rh, rw = (int(v) for v in geometry)
    others = np.delete(logits, sky_index, axis=0)
    margin = np.ascontiguousarray(logits[sky_index] - others.max(axis=0), dtype=np.float32)
    stride_y = input_hw[0] / logits.shape[1]
    stride_x = input_hw[1] / logits.shape[2]
    ky, kx = (rh / orig_h) / stride_y, (rw / orig_w) / stride_x
    matrix = np.array([[kx, 0.0, 0.5 * kx - 0.5], [0.0, ky, 0.5 * ky - 0.5]], dtype=np.float64)
    upsampled = cv2.warpAffine(margin, matrix, (orig_w, orig_h),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)
    return np.where(upsampled > 0, np.uint8(255), np.uint8(0))
