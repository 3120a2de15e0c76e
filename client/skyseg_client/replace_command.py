"""``skyseg replace PHOTO... --sky SKY.jpg -o DIR``: each photo with its sky replaced."""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2

from .errors import SkySegError
from .progress import progress
from .replace import replace_sky
from .segmenter import add_segmenter_args, open_segmenter


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("replace", help="replace the sky of photos with another sky")
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("--sky", type=Path, required=True, help="the new sky: a photo of sky (its top is used)")
    p.add_argument("-o", "--out", type=Path, required=True, help="output folder: <stem>_sky.jpg per photo")
    p.add_argument("--harmonize", type=float, default=0.3,
                   help="share of the sky's change of light the foreground takes on (0 = none; default 0.3)")
    p.add_argument("--feather", type=float, help="edge softness in pixels (default 0.1%% of the diagonal, at least 1)")
    add_segmenter_args(p)
    p.set_defaults(func=run)


def read_sky(path: Path):
    sky = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if sky is None:
        raise ValueError(f"--sky {path}: not a readable image (JPEG, PNG, BMP or WebP)")
    return sky


def run(args: argparse.Namespace) -> int:
    sky = read_sky(args.sky)
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with open_segmenter(args) as segmenter:
        masks = segmenter.segment_many(args.images, return_exceptions=True)
        for path, mask in progress(zip(args.images, masks, strict=True), len(args.images), "replace"):
            image = None if isinstance(mask, SkySegError) else cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None or image.shape[:2] != mask.shape:
                failures += 1
                reason = mask if isinstance(mask, SkySegError) else "not readable here"
                print(f"FAILED {path}: {reason}", flush=True)
                continue
            cv2.imwrite(str(args.out / f"{path.stem}_sky.jpg"), replace_sky(image, mask, sky, args.feather, args.harmonize),
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
    print(f"{len(args.images) - failures} of {len(args.images)} photos given a new sky in {args.out}")
    return 1 if failures else 0
