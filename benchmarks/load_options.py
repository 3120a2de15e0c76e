"""The options the server-load benchmarks share: which JPEGs, at which size, how hard, how long."""
from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import perf_analyzer as pa

ROOT = Path(__file__).resolve().parents[1]


def add_load_options(p: argparse.ArgumentParser, in_flight: int, seconds: float) -> None:
    p.add_argument("--size", default="1920x1080", help="WxH the JPEGs are resized to")
    p.add_argument("--images", default=pa.DEFAULT_IMAGES)
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--in-flight", type=int, default=in_flight)
    p.add_argument("--seconds", type=float, default=seconds)
    p.add_argument("--repository", type=Path, default=ROOT / "model_repository")


def load_jpegs(args: argparse.Namespace) -> tuple[list[bytes], str]:
    """(JPEG bytes of ``--count`` images resized to ``--size``, where they came from)."""
    width, height = (int(v) for v in args.size.split("x"))
    return pa.load_images(args.images, args.count, (width, height))
