"""``skyseg segment IMG... -o DIR``: masks (and overlays) as PNG/JPEG files."""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2

from .client import DEFAULT_URLS, SkySegClient
from .errors import SkySegError
from .overlay import overlay
from .progress import progress

CHUNK = 64  # bounds memory on large archives while keeping requests in flight


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="server address, or several separated by commas (requests are spread "
                        "over them); default localhost:8001 for gRPC, :8000 for HTTP")
    parser.add_argument("--protocol", choices=sorted(DEFAULT_URLS), default="grpc")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("segment", help="segment images on a running server")
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True, help="output folder")
    add_connection_args(p)
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    p.add_argument("--no-overlay", action="store_true", help="write masks only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with SkySegClient(args.url, args.protocol, max_in_flight=args.concurrency) as client:
        chunks = (args.images[i:i + CHUNK] for i in range(0, len(args.images), CHUNK))
        results = ((p, r) for chunk in chunks for p, r in zip(chunk, client.segment_many(chunk, return_exceptions=True), strict=True))
        for path, result in progress(results, len(args.images), "segment"):
            if isinstance(result, SkySegError):
                failures += 1
                print(f"FAILED {path}: {result}", flush=True)
                continue
            cv2.imwrite(str(args.out / f"{path.stem}_mask.png"), result)
            if not args.no_overlay:
                image = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if image is not None and image.shape[:2] == result.shape:
                    cv2.imwrite(str(args.out / f"{path.stem}_overlay.jpg"), overlay(image, result))
    print(f"{len(args.images) - failures} of {len(args.images)} images segmented into {args.out}")
    return 1 if failures else 0
