"""``skyseg video SOURCE -o OUT.mp4``: an overlay video, several frames in flight.

SOURCE is a video file, a stream URL or a camera index (``sources``). Three things overlap so the
client never waits idle: a reader thread decodes frames ahead (``segment_frames``), requests are in
flight on the server, and one writer thread draws the overlays and encodes them in frame order.
Ctrl-C stops the run: the frames in flight are finished (a second Ctrl-C drops them) and the
video is closed so it plays (exit code 130).
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import logging
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from . import sources
from .overlay import overlay
from .replace import replace_sky
from .replace_command import read_sky
from .progress import progress
from .segmenter import add_segmenter_args, open_segmenter

log = logging.getLogger(__name__)
DEFAULT_FPS = 25.0  #: for a stream that states no frame rate
DESCRIPTION = """\
Segment every frame of SOURCE and write the frames with the sky tinted to OUT (mp4), in order.
A live SOURCE (stream URL or camera) runs until Ctrl-C, --max-frames or --seconds; if it drops it
is reopened for up to --reconnect-seconds, each attempt logged. Ctrl-C stops cleanly: the frames
in flight are finished (Ctrl-C again: dropped), the video is closed so it plays, what was written
is printed, exit code 130."""


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
        return value
    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("video", help="segment a video file, stream or camera into an overlay video",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("video", metavar="SOURCE",
                   help="video file, stream URL (rtsp://, http://, https://, ...) or camera index (0, 1, ...; "
                        "write ./0 for a file named 0)")
    p.add_argument("-o", "--out", type=Path, required=True, help="output video (.mp4)")
    add_segmenter_args(p)
    p.add_argument("--masks-dir", type=Path, help="also write every mask as PNG here (frame_000000.png, ...)")
    p.add_argument("--shared-memory", action="store_true",
                   help="pass frames and masks through system shared memory (server on this host)")
    p.add_argument("--replace-sky", type=Path, metavar="SKY",
                   help="write the frames with their sky replaced by this photo of sky instead of tinted")
    p.add_argument("--fps", type=_positive(float),
                   help=f"frame rate of the output (default: the source's; {DEFAULT_FPS:g} for a stream "
                        "that states none; FFmpeg states 25 for MJPEG over HTTP)")
    p.add_argument("--max-frames", type=_positive(int), help="stop after this many frames")
    p.add_argument("--seconds", type=_positive(float), help="stop after this many seconds (wall clock)")
    p.add_argument("--reconnect-seconds", type=float, default=30.0,
                   help="a stream or camera that drops is reopened with backoff for up to this long, then the "
                        "run fails (0: fail at once; default %(default)g). A file that ends just ends")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = sources.video_source(args.video)
    capture = sources.open_video(source)
    live = sources.is_live(source, capture)
    fps = args.fps or sources.reported_fps(capture) or DEFAULT_FPS
    total = _expected_frames(capture, live, args.max_frames)
    ctrl_c, lost = CtrlC(), []
    frames = (sources.live_frames(source, capture, args.reconnect_seconds, stop=ctrl_c.stop) if live
              else sources.file_frames(capture))
    frames = _until_lost(sources.bounded(frames, args.max_frames, args.seconds, stop=ctrl_c.stop), lost)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.masks_dir:
        args.masks_dir.mkdir(parents=True, exist_ok=True)
    draw = overlay
    if args.replace_sky:
        draw = functools.partial(replace_sky, sky_bgr=read_sky(args.replace_sky))
    output = OverlayVideo(args.out, fps, args.masks_dir, draw)
    start = time.monotonic()
    with ctrl_c:
        try:
            with open_segmenter(args, shared_memory=args.shared_memory) as segmenter, \
                    contextlib.closing(segmenter.segment_frames(frames)) as results:
                write_in_order(progress(results, total, "video", unit="frame"), output, backlog=args.in_flight)
        except KeyboardInterrupt:
            ctrl_c.stop.set()
        finally:
            ctrl_c.armed = False  # from here on Ctrl-C cannot cut closing the video short
            output.close()
            _report(output, time.monotonic() - start, ctrl_c.stop.is_set())
    if ctrl_c.stop.is_set():
        return 130
    if lost:
        raise lost[0]
    return 0


def _expected_frames(capture: cv2.VideoCapture, live: bool, max_frames: int | None) -> int | None:
    count = None if live else sources.frame_count(capture)
    return min(filter(None, (count, max_frames)), default=None)


def _until_lost(frames: Iterable[np.ndarray], lost: list) -> Iterator[np.ndarray]:
    """``frames`` ending normally when the stream is lost, the error kept in ``lost``: the frames
    already read are still segmented and written before the run fails."""
    try:
        yield from frames
    except sources.StreamLost as exc:
        lost.append(exc)


class OverlayVideo:
    """The overlay video, opened at the first frame with that frame's size (later frames of another
    size, e.g. a camera that came back at another resolution, are resized), and the mask PNGs.
    ``write`` runs on one writer thread; after ``close`` it writes nothing."""

    def __init__(self, path: Path, fps: float, masks_dir: Path | None, draw=overlay) -> None:
        self.path, self.fps, self.masks_dir, self.draw = path, fps, masks_dir, draw
        self.frames = 0
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self._closed = False
        self._lock = threading.Lock()

    def write(self, frame: np.ndarray, mask: np.ndarray) -> None:
        image = self.draw(frame, mask)
        with self._lock:
            if self._closed:  # a write still queued after Ctrl-C: the file is finished
                return
            if self._writer is None:
                self._size = (image.shape[1], image.shape[0])
                self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self._size)
                if not self._writer.isOpened():
                    raise RuntimeError(f"cannot write {self.path}")
            if (image.shape[1], image.shape[0]) != self._size:
                log.warning("frame %d is %dx%d, the video %dx%d: resized", self.frames, image.shape[1],
                            image.shape[0], *self._size)
                image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
            self._writer.write(image)
            if self.masks_dir:
                cv2.imwrite(str(self.masks_dir / f"frame_{self.frames:06d}.png"), mask)
            self.frames += 1

    def close(self) -> None:
        """Finish the file (an mp4 without its index does not play); waits for a write under way."""
        with self._lock:
            self._closed = True
            if self._writer is not None:
                self._writer.release()
                self._writer = None


def write_in_order(results: Iterable[tuple[np.ndarray, np.ndarray]], output: OverlayVideo, backlog: int) -> None:
    """Each (frame, mask) to ``output`` on one writer thread, in order, at most ``backlog`` behind.
    On an exception (Ctrl-C included) the writes already handed over finish first."""
    pending: collections.deque = collections.deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="skyseg-writer") as writer:
        for frame, mask in results:
            pending.append(writer.submit(output.write, frame, mask))  # one worker: frame order kept
            while len(pending) > backlog:  # bounded: the writer may not fall behind for ever
                pending.popleft().result()
        while pending:
            pending.popleft().result()


class CtrlC:
    """SIGINT while this context is open (main thread only; elsewhere nothing changes).

    The first Ctrl-C sets ``stop``: the source ends (a reconnect under way is abandoned), the
    frames in flight are finished and written. A second one raises KeyboardInterrupt: frames in
    flight are dropped. Once ``armed`` is False (closing up) Ctrl-C only sets ``stop``, so that the
    video's index is always written."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.armed = True
        self._previous = None

    def __enter__(self) -> CtrlC:  # noqa: PYI034 - no typing_extensions in the client
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _on_sigint(self, _signum, _frame) -> None:
        if not self.stop.is_set():
            self.stop.set()
            if self.armed:  # unbuffered: the handler may run in the middle of another write to stderr
                os.write(2, b"\nstopping: finishing the frames in flight (Ctrl-C again to stop at once)\n")
        elif self.armed:
            self.armed = False
            raise KeyboardInterrupt


def _report(output: OverlayVideo, seconds: float, interrupted: bool) -> None:
    prefix = "interrupted: " if interrupted else ""
    if not output.frames:
        print(f"{prefix}no frames written ({output.path} not created)", flush=True)
        return
    print(f"{prefix}{output.frames} frames in {seconds:.1f} s ({output.frames / max(seconds, 1e-9):.1f} fps end "
          f"to end) -> {output.path}", flush=True)
