"""``skyseg video IN -o OUT.mp4``: an overlay video, several frames in flight.

Three things overlap so the client never waits idle: a reader thread decodes frames ahead
(``segment_video``), requests are in flight on the server, and one writer thread draws the
overlays and encodes them in frame order.
"""
from __future__ import annotations

import argparse
import collections
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2

from .client import SkySegClient
from .overlay import overlay
from .progress import progress
from .segment_command import add_connection_args


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("video", help="segment a video's frames into an overlay video")
    p.add_argument("video", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True, help="output video (.mp4)")
    add_connection_args(p)
    p.add_argument("--in-flight", type=int, default=4, help="frames in flight")
    p.add_argument("--masks-dir", type=Path, help="also write every mask as PNG here")
    p.add_argument("--shared-memory", action="store_true",
                   help="pass frames and masks through system shared memory (server on this host)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    capture = cv2.VideoCapture(str(args.video))
    if not capture.isOpened():
        raise FileNotFoundError(f"cannot open video {args.video}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    capture.release()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.masks_dir:
        args.masks_dir.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {args.out}")
    def write(index: int, frame, mask) -> None:
        writer.write(overlay(frame, mask))
        if args.masks_dir:
            cv2.imwrite(str(args.masks_dir / f"frame_{index:06d}.png"), mask)

    start, count = time.monotonic(), 0
    pending: collections.deque = collections.deque()
    try:
        with SkySegClient(args.url, args.protocol, max_in_flight=args.in_flight,
                          shared_memory=args.shared_memory) as client, \
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="skyseg-writer") as output:
            for frame, mask in progress(client.segment_video(args.video), total, "video", unit="frame"):
                pending.append(output.submit(write, count, frame, mask))  # one worker: frame order kept
                count += 1
                while len(pending) > args.in_flight:  # bounded: the writer may not fall behind for ever
                    pending.popleft().result()
            while pending:
                pending.popleft().result()
    finally:
        writer.release()
    seconds = time.monotonic() - start
    print(f"{count} frames in {seconds:.1f} s ({count / max(seconds, 1e-9):.1f} fps end to end) -> {args.out}")
    return 0
