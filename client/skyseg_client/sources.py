"""Where the commands' inputs come from.

``skyseg segment``: image files, and folders searched recursively for images.
``skyseg video``: a video file, a stream URL (RTSP, HTTP(S) MJPEG, ...) or a camera index; a live
source (stream or camera) that drops is reopened with backoff for a bounded time.
"""
from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")  #: matched in any case
VideoSource = str | int  #: a file path or URL as typed, or a camera index
OPEN_TIMEOUT_S = 10.0  #: longest wait for a stream to answer when (re)opening it
READ_TIMEOUT_S = 10.0  #: a stream silent this long has dropped
BACKOFF_S, BACKOFF_MAX_S = 0.5, 5.0  #: pause before the 2nd reconnect attempt, doubling up to the max
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class InputError(ValueError):
    """An input that does not exist, cannot be opened or holds nothing to do; the message names it."""


class StreamLost(RuntimeError):
    """A live source dropped and did not come back within the reconnect time."""


# -- images -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageInput:
    path: Path  #: the file to read
    name: Path  #: its path under the folder it was found in, or its file name when given as a file


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def list_images(paths: Iterable[Path], exclude: Path | None = None) -> list[ImageInput]:
    """Files as given (any name: the server judges them), folders expanded by :func:`find_images`.

    Raises one InputError naming every path that does not exist and every folder without images.
    """
    found: list[ImageInput] = []
    problems: list[str] = []
    for path in map(Path, paths):
        if path.is_dir():
            images = find_images(path, exclude)
            if not images:
                problems.append(f"no images ({' '.join(IMAGE_EXTENSIONS)}) in folder {path}")
            found += [ImageInput(image, image.relative_to(path)) for image in images]
        elif path.exists():
            found.append(ImageInput(path, Path(path.name)))
        else:
            problems.append(f"no such file or folder: {path}")
    if problems:
        raise InputError("; ".join(problems))
    return found


def find_images(folder: Path, exclude: Path | None = None) -> list[Path]:
    """Images under ``folder`` (recursive), sorted. Hidden files and folders (``.name``) and the
    folder ``exclude`` (an output folder inside the input) are left out; an unreadable folder is an error."""
    skip = exclude.resolve() if exclude is not None else None
    images: list[Path] = []
    ignored: list[str] = []

    def unreadable(error: OSError) -> None:
        raise InputError(f"cannot read folder {error.filename}: {error.strerror}")

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = [d for d in dirs if not d.startswith(".") and (skip is None or (Path(root) / d).resolve() != skip)]
        for name in files:
            if not name.startswith("."):
                (images if is_image_name(name) else ignored).append(str(Path(root) / name))
    if ignored:
        log.info("%s: ignored %d file(s) without an image extension, e.g. %s", folder, len(ignored), min(ignored))
    return sorted(map(Path, images))


# -- video sources ----------------------------------------------------------------------------------
def video_source(text: str) -> VideoSource:
    """The command's argument as it is opened: all digits -> that camera; a URL (``scheme://``)
    verbatim; anything else a video file, which must exist."""
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    if is_url(text):
        return text
    if not Path(text).is_file():
        raise InputError(f"no such video file: {text}")
    return text


def is_url(text: str) -> bool:
    return bool(_URL.match(text))


def describe(source: VideoSource) -> str:
    """For messages: ``camera 0``, ``stream rtsp://***@cam/live`` (no password), ``video file x.mp4``."""
    if isinstance(source, int):
        return f"camera {source}"
    if is_url(source):
        parts = urlsplit(source)
        if "@" in parts.netloc:
            source = parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()
        return f"stream {source}"
    return f"video file {source}"


def open_video(source: VideoSource, timeout_s: float = OPEN_TIMEOUT_S) -> cv2.VideoCapture:
    """An opened capture; streams wait at most ``timeout_s`` to open and READ_TIMEOUT_S per read."""
    if isinstance(source, int):
        capture = cv2.VideoCapture(source)
    elif is_url(source):
        capture = cv2.VideoCapture(source, cv2.CAP_FFMPEG, [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(READ_TIMEOUT_S * 1000)])
    else:
        capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        capture.release()
        raise InputError(f"cannot open {describe(source)}")
    return capture


def reported_fps(capture: cv2.VideoCapture) -> float | None:
    """The frame rate the source states, None when it states none plausible."""
    fps = capture.get(cv2.CAP_PROP_FPS)
    return fps if math.isfinite(fps) and 0 < fps <= 1000 else None


def frame_count(capture: cv2.VideoCapture) -> int | None:
    """Frames in a finite video; None for live sources (OpenCV reports 0, -1 or -2**63 there)."""
    count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
    return int(count) if math.isfinite(count) and 0 < count < 2 ** 31 else None


def is_live(source: VideoSource, capture: cv2.VideoCapture) -> bool:
    """Cameras, and URLs of unknown length (a URL of an .mp4 has a length: it ends like a file)."""
    return isinstance(source, int) or (is_url(source) and frame_count(capture) is None)


def read_frame(capture: cv2.VideoCapture) -> np.ndarray | None:
    """The next BGR frame, or None when the read fails or returns no frame."""
    try:
        ok, frame = capture.read()
    except cv2.error as exc:
        log.debug("read failed: %s", exc)
        return None
    return frame if ok and frame is not None and frame.size else None


def file_frames(capture: cv2.VideoCapture) -> Iterator[np.ndarray]:
    """Every frame until the video ends; the capture is released at the end."""
    try:
        while (frame := read_frame(capture)) is not None:
            yield frame
    finally:
        capture.release()


def live_frames(source: VideoSource, capture: cv2.VideoCapture, reconnect_s: float,
                stop: threading.Event | None = None) -> Iterator[np.ndarray]:
    """Frames of a stream or camera for as long as it lasts. When a read fails or returns no frame,
    the source is reopened (each attempt logged, with backoff) until a frame arrives; if none has
    arrived ``reconnect_s`` after the drop (0: at once), StreamLost is raised. Setting ``stop``
    ends the frames, a reconnect under way included."""
    name, count, deadline, attempt = describe(source), 0, None, 0
    try:
        while True:
            frame = read_frame(capture) if capture is not None else None
            if frame is not None:
                if deadline is not None:
                    log.warning("%s is back after %d attempt(s); continuing at frame %d", name, attempt, count)
                deadline, attempt = None, 0
                count += 1
                yield frame
                continue
            if capture is not None:
                capture.release()
            if stop is not None and stop.is_set():
                return
            if deadline is None:
                if reconnect_s <= 0:
                    raise StreamLost(f"{name} dropped after {count} frames (reconnecting is off)")
                deadline = time.monotonic() + reconnect_s
                log.warning("%s dropped after %d frames; reconnecting for up to %g s", name, count, reconnect_s)
            if time.monotonic() > deadline:
                raise StreamLost(f"{name} dropped after {count} frames and did not come back within "
                                 f"{reconnect_s:g} s ({attempt} reconnect attempts)")
            attempt += 1
            capture = reopen(source, attempt, deadline, stop)
    finally:
        if capture is not None:
            capture.release()


def reopen(source: VideoSource, attempt: int, deadline: float,
           stop: threading.Event | None = None) -> cv2.VideoCapture | None:
    """Attempt number ``attempt`` to open ``source`` again, after its backoff pause (none before the
    first; the last pause ends at ``deadline``, a time.monotonic); None when it fails or ``stop`` is set."""
    pause = 0.0 if attempt == 1 else min(BACKOFF_S * 2 ** (attempt - 2), BACKOFF_MAX_S)
    waiter = stop if stop is not None else threading.Event()
    if waiter.wait(max(0.0, min(pause, deadline - time.monotonic()))):
        return None
    left = max(0.0, deadline - time.monotonic())
    log.warning("%s: reconnect attempt %d (%.1f s left)", describe(source), attempt, left)
    try:
        return open_video(source, timeout_s=max(0.5, min(OPEN_TIMEOUT_S, left)))
    except InputError:
        return None


def bounded(frames: Iterable[np.ndarray], max_frames: int | None = None, seconds: float | None = None,
            stop: threading.Event | None = None) -> Iterator[np.ndarray]:
    """``frames`` until ``max_frames`` have passed, ``seconds`` of wall-clock time or ``stop`` is set,
    whichever is first (None: no such bound); no frame is read past the bound, and ``frames`` is
    closed at the end."""
    source = iter(frames)
    end = None if seconds is None else time.monotonic() + seconds
    count = 0
    try:
        while ((max_frames is None or count < max_frames) and (end is None or time.monotonic() < end)
               and (stop is None or not stop.is_set())):
            try:
                frame = next(source)
            except StopIteration:
                return
            count += 1
            yield frame
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
