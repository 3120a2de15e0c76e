"""The benchmarks' image sets: real JPEGs at the sizes they compare, generated scenes where the
research data is absent (and said so), and CamVid test for the IoU columns."""
from __future__ import annotations

import argparse
import glob
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"  #: the research datasets; their licences keep them out of the repository
CAMVID = SHARED / "camvid"
DEFAULT_IMAGES = str(CAMVID / "test" / "*.jpg")
DEFAULT_COUNT = 16
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
STANDARD_SIZES = ((960, 540), (1280, 720), (1920, 1080))  #: (W, H): the sizes benchmarks.compare reports
JPEG_QUALITY = 90

Size = tuple[int, int]  # (W, H)


def parse_size(text: str | None) -> Size | None:
    """'1920x1080' -> (1920, 1080); None or '' -> None. Usable as an argparse ``type``."""
    if not text:
        return None
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 1920x1080, not {text!r}") from None
    return width, height


def size_label(size: Size) -> str:
    """(1920, 1080) -> '1920x1080', the key results are reported under."""
    return f"{size[0]}x{size[1]}"


def find_images(pattern: str | Path, count: int = DEFAULT_COUNT) -> list[Path]:
    """The first ``count`` images (sorted) of a glob or a directory: the same set on every run."""
    pattern = str(pattern)
    if os.path.isdir(pattern):
        paths = [p for p in sorted(Path(pattern).iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    else:
        paths = [Path(p) for p in sorted(glob.glob(pattern)) if Path(p).is_file()]
    return paths[:count]


def synthetic_image(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A BGR landscape: graded sky above a ragged skyline, textured ground below (not a real photo)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, horizon = rng.uniform([150, 80, 20], [210, 140, 70]).astype(np.float32), np.float32([235, 210, 180])
    image = np.broadcast_to(top * (1 - t) + horizon * t, (height, width, 3)).copy()
    knots = rng.uniform(0.35, 0.7, size=12) * height
    skyline = np.interp(np.arange(width), np.linspace(0, width - 1, knots.size), knots)
    skyline += rng.normal(0, height * 0.01, width).cumsum() * 0.05
    ground = np.arange(height)[:, None] >= skyline[None, :]
    colour = rng.uniform([20, 60, 30], [90, 140, 110]).astype(np.float32)
    texture = rng.normal(0, 18, (height, width, 1)).astype(np.float32)
    image[ground] = (colour + texture)[ground]
    image += rng.normal(0, 3, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def encode_jpeg(image: np.ndarray, size: Size | None = None, quality: int = JPEG_QUALITY) -> bytes:
    """JPEG bytes of a BGR image, resized to ``size`` first (area filter when shrinking)."""
    if size is not None and (image.shape[1], image.shape[0]) != tuple(size):
        shrink = size[0] * size[1] < image.shape[0] * image.shape[1]
        image = cv2.resize(image, tuple(size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


def image_bytes(image: Path | str | bytes, size: Size | None = None) -> bytes:
    """The file's own JPEG bytes; re-encoded (quality 90) when resized or when the file is not a JPEG."""
    data = image if isinstance(image, (bytes, bytearray)) else Path(image).read_bytes()
    if size is None and data[:3] == b"\xff\xd8\xff":
        return bytes(data)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise ValueError(f"cannot decode {image if not isinstance(image, (bytes, bytearray)) else 'image bytes'}")
    return encode_jpeg(decoded, size)


def load_images(pattern: str | Path = DEFAULT_IMAGES, count: int = DEFAULT_COUNT,
                resize: Size | None = None) -> tuple[list[bytes], str]:
    """(JPEG bytes, description): real images from a glob/dir, else GENERATED synthetic scenes (said so)."""
    paths = find_images(pattern, count)
    suffix = f", resized to {resize[0]}x{resize[1]} (JPEG quality 90)" if resize else ""
    if paths:
        return [image_bytes(p, resize) for p in paths], f"{len(paths)} images from {pattern}{suffix}"
    width, height = resize or (960, 540)
    images = [encode_jpeg(synthetic_image(width, height, seed)) for seed in range(count)]
    return images, (f"{count} GENERATED synthetic {width}x{height} JPEGs (no images at {pattern}); "
                    "numbers are not comparable with real-image runs")


def images_at_sizes(pattern: str, count: int = 32,
                    sizes: Sequence[str] = ("native",)) -> tuple[list[tuple[str, bytes]], str]:
    """(label, JPEG bytes) for ``count`` images, cycling through ``sizes`` (WxH or 'native') so the
    server's batches mix canvas shapes; rendered scenes (skyseg.samples) where ``pattern`` finds none."""
    paths = find_images(pattern, count)
    if paths:
        originals: list[tuple[str, Path | bytes]] = [(p.stem, p) for p in paths]
        source = f"{len(paths)} JPEGs from {pattern}"
    else:
        from skyseg.samples import render_scene

        originals = [(f"scene{i}", encode_jpeg(render_scene(480, 360, seed=i))) for i in range(count)]
        source = f"{count} GENERATED scenes ({pattern} absent)"
    images = []
    for n, (name, original) in enumerate(originals):
        size = parse_size(None if sizes[n % len(sizes)] == "native" else sizes[n % len(sizes)])
        images.append((name if size is None else f"{name} at {size[0]}x{size[1]}", image_bytes(original, size)))
    return images, f"{source}, sizes {', '.join(sizes)}"


def write_image_sets(pattern: str, count: int, sizes: Sequence[Size], folder: Path) -> tuple[dict[str, list[Path]], str]:
    """{'WxH': [JPEG file]}: the same images resized to each size and re-encoded (quality 90), as
    files, for the paths that read files (MMSeg) and those that read bytes alike."""
    jpegs: dict[str, list[Path]] = {}
    source = ""
    for size in sizes:
        data, source = load_images(pattern, count, size)
        out = folder / size_label(size)
        out.mkdir(parents=True, exist_ok=True)
        jpegs[size_label(size)] = []
        for i, blob in enumerate(data):
            (out / f"{i:03d}.jpg").write_bytes(blob)
            jpegs[size_label(size)].append(out / f"{i:03d}.jpg")
    if "GENERATED" not in source:
        source = (f"{count} images from {pattern}, resized to {', '.join(map(size_label, sizes))} "
                  "(JPEG quality 90)")
    return jpegs, source


def camvid_test_pairs(folder: Path) -> list[tuple[Path, Path]] | None:
    """CamVid test as (image, sky mask) files converted into ``folder`` (once), or None where
    ``../shared/data/camvid`` is absent: a fresh clone has no research data, so the IoU is skipped
    (reported as n/a), never guessed."""
    from skyseg.train import convert_data, evaluate

    if not CAMVID.is_dir():
        return None
    if not (folder / "camvid_test").is_dir():
        convert_data.convert_camvid(CAMVID, folder, splits=["test"])
    return evaluate.dataset_pairs(folder, "camvid_test")
