"""Sky masks drawn over images, for people to look at."""
from __future__ import annotations

import cv2
import numpy as np


def overlay(image_bgr: np.ndarray, mask: np.ndarray, color: tuple[int, int, int] = (0, 140, 255),
            alpha: float = 0.45) -> np.ndarray:
    """Tint the sky (orange by default: it shows on blue and grey skies alike) and outline it."""
    if image_bgr.shape[:2] != mask.shape[:2]:
        raise ValueError(f"mask {mask.shape[:2]} does not match image {image_bgr.shape[:2]}")
    image = image_bgr if image_bgr.ndim == 3 else cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR)
    sky = mask > 127
    out = image.copy()
    out[sky] = (image[sky] * (1 - alpha) + np.array(color, np.float32) * alpha).astype(np.uint8)
    contours, _ = cv2.findContours(sky.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, (255, 255, 255), max(1, min(image.shape[:2]) // 400))
    return out
