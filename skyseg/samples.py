"""Synthetic outdoor scenes (sky, clouds, hills, buildings) for the demo and tests.

Made by the project so that a fresh clone can demonstrate and test the service without the
research datasets, whose licences forbid redistribution.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def _skyline(width: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
    x = np.arange(width)
    hills = sum(rng.uniform(5, 25) * np.sin(x / rng.uniform(40, 200) + rng.uniform(0, 6)) for _ in range(3))
    line = (horizon + hills).astype(np.int32)
    for _ in range(rng.integers(0, 4)):  # buildings break the skyline with straight edges
        left = int(rng.integers(0, max(width - 60, 1)))
        line[left:left + int(rng.integers(30, 90))] -= int(rng.integers(30, 120))
    return np.clip(line, 10, None)


def render_scene(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A BGR landscape; the sky is everything above the skyline."""
    return render_labeled_scene(width, height, seed)[0]


def render_labeled_scene(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(BGR image, bool sky mask)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    top, low = np.float32(rng.uniform([150, 80, 20], [200, 130, 60])), np.float32([235, 205, 170])
    image = np.broadcast_to(top * (1 - t) + low * t, (height, width, 3)).copy()
    clouds = np.zeros((height, width), np.float32)
    for _ in range(rng.integers(2, 7)):
        center = (int(rng.integers(0, width)), int(rng.integers(0, max(height // 2, 1))))
        axes = (int(rng.integers(width // 20, width // 6 + 2)), int(rng.integers(height // 30, height // 10 + 2)))
        cv2.ellipse(clouds, center, axes, 0, 0, 360, float(rng.uniform(0.5, 0.95)), -1)
    clouds = cv2.GaussianBlur(clouds, (0, 0), max(width, height) / 80)[..., None]
    image = image * (1 - clouds) + 245 * clouds
    line = _skyline(width, int(height * rng.uniform(0.45, 0.7)), rng)
    ground = np.arange(height)[:, None] >= line[None, :]
    base = np.float32(rng.uniform([30, 70, 40], [70, 130, 90]))
    texture = rng.normal(0, 18, (height, width, 1)).astype(np.float32)
    image[ground] = (base + texture)[ground]
    image += rng.normal(0, 3, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8), ~ground


def write_images(out: Path, sizes=((640, 480), (1280, 720), (800, 800), (1920, 1080))) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (w, h) in enumerate(sizes):
        path = out / f"scene_{i}_{w}x{h}.jpg"
        cv2.imwrite(str(path), render_scene(w, h, seed=i), [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(path)
    return paths


def write_video(path: Path, frames: int = 75, size: tuple[int, int] = (640, 360), fps: float = 25.0) -> Path:
    """A slow pan across a wide synthetic panorama."""
    w, h = size
    panorama = render_scene(w * 2, h, seed=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    for i in range(frames):
        x = int(i * (w / max(frames - 1, 1)))
        writer.write(np.ascontiguousarray(panorama[:, x:x + w]))
    writer.release()
    return path


def render_sunset_sky(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A BGR sunset sky (deep blue above, orange at the horizon, soft clouds): a new sky for the
    demo's sky replacement that needs no photo licence."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, horizon = np.float32([110, 40, 30]), np.float32([60, 140, 250])  # BGR
    image = np.broadcast_to(top * (1 - t) + horizon * t, (height, width, 3)).copy()
    clouds = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), max(width, height) / 40)
    clouds = np.clip((clouds - clouds.mean()) * 12, 0, 1)[..., None]
    image = image * (1 - 0.5 * clouds) + np.float32([120, 150, 230]) * 0.5 * clouds
    return np.clip(image, 0, 255).astype(np.uint8)
