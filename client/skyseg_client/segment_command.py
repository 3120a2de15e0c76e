"""``skyseg segment IMAGE_OR_FOLDER... -o DIR``: masks (and overlays) as PNG/JPEG files."""
from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from . import sources
from .segmenter import add_segmenter_args, open_segmenter
from .overlay import overlay
from .progress import progress

CHUNK = 64  # bounds memory on large archives while keeping requests in flight

OUTPUTS = """\
what is written where (under -o DIR):
  an IMAGE given as a file     DIR/<stem>_mask.png and DIR/<stem>_overlay.jpg
  an image found in a FOLDER   DIR/<its sub-folders under FOLDER>/<stem>_mask.png and _overlay.jpg
Masks are 8-bit PNGs at the image's size, 255 = sky. A mask is written last and whole (renamed into
place), so with --skip-existing an input whose mask exists is done. Folders are searched recursively
for .jpg .jpeg .png .bmp .webp (any case), in sorted order; hidden files and folders (.name) and the
output folder are left out. Two inputs that would write the same mask are refused before any work."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("segment", help="segment images, or folders of images (on a server, or in this process with --local)",
                              description="Segment images, and the images in folders (recursively).",
                              epilog=OUTPUTS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE_OR_FOLDER",
                   help="image files, and folders searched recursively for images")
    p.add_argument("-o", "--out", type=Path, required=True, help="output folder (see below)")
    add_segmenter_args(p)
    p.add_argument("--no-overlay", action="store_true", help="write masks only")
    p.add_argument("--skip-existing", action="store_true",
                   help="skip inputs whose mask is already in the output folder (resume a run)")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class Job:
    image: Path
    mask: Path
    overlay: Path


def plan(images: Iterable[sources.ImageInput], out: Path) -> list[Job]:
    """One job per input, its outputs under ``out``; the same file twice counts once, two files
    that would write the same mask are an InputError naming both."""
    jobs: dict[Path, Job] = {}
    for item in images:
        folder = out / item.name.parent
        job = Job(item.path, folder / f"{item.name.stem}_mask.png", folder / f"{item.name.stem}_overlay.jpg")
        other = jobs.setdefault(job.mask, job)
        if other is not job and other.image.resolve() != job.image.resolve():
            raise sources.InputError(f"{other.image} and {job.image} would both write {job.mask}; "
                                     "segment them in separate runs with different -o folders")
    return list(jobs.values())


def run(args: argparse.Namespace) -> int:
    jobs = plan(sources.list_images(args.images, exclude=args.out), args.out)
    todo = [job for job in jobs if not (args.skip_existing and job.mask.exists())]
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with open_segmenter(args) as segmenter:
        for job, result in progress(segmented(segmenter, todo), len(todo), "segment"):
            if isinstance(result, Exception):
                failures += 1
                print(f"FAILED {job.image}: {result}", flush=True)
                continue
            write_outputs(job, result, with_overlay=not args.no_overlay)
    skipped = len(jobs) - len(todo)
    print(f"{len(todo) - failures} of {len(todo)} images segmented into {args.out}"
          + (f"; {skipped} skipped, their masks already there" if skipped else ""))
    return 1 if failures else 0


def segmented(segmenter, jobs: list[Job]) -> Iterator[tuple[Job, np.ndarray | Exception]]:
    """(job, mask or its error) in order, requests in flight across each chunk (a SkySegClient or a
    LocalSegmenter: both have segment_many)."""
    for start in range(0, len(jobs), CHUNK):
        chunk = jobs[start:start + CHUNK]
        yield from zip(chunk, segmenter.segment_many([job.image for job in chunk], return_exceptions=True), strict=True)


def write_outputs(job: Job, mask: np.ndarray, with_overlay: bool) -> None:
    """The overlay, then the mask, whole: a mask on disk means its job is done."""
    job.mask.parent.mkdir(parents=True, exist_ok=True)
    if with_overlay:
        image = cv2.imread(str(job.image), cv2.IMREAD_COLOR)
        if image is not None and image.shape[:2] == mask.shape:
            cv2.imwrite(str(job.overlay), overlay(image, mask))
    ok, png = cv2.imencode(".png", mask)
    if not ok:
        raise RuntimeError(f"cannot encode the mask of {job.image}")
    partial = job.mask.with_name(f".{job.mask.name}.partial")
    partial.write_bytes(png.tobytes())
    os.replace(partial, job.mask)
