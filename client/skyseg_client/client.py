"""``SkySegClient``: one API over tritonclient's gRPC and HTTP clients.

Encoded images go to the ``sky_segmentation`` ensemble untouched (the server decodes them);
numpy frames go to ``sky_segmentation_raw``. Several requests are kept in flight with the
clients' own ``async_infer`` so the server can batch them, and results come back in input order.
"""
from __future__ import annotations

import collections
import itertools
import queue
import random
import threading
import time
from concurrent.futures import Future
from os import PathLike
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, Union

import cv2
import numpy as np

from . import protocol
from .errors import SkySegError, from_triton

ImageLike = Union[str, PathLike, bytes, bytearray, memoryview, np.ndarray]
DEFAULT_URLS = {"grpc": "localhost:8001", "http": "localhost:8000"}
#: finished results that may wait for an older one, per request in flight (bounds held masks)
REORDER_WINDOW = 4


class SkySegClient:
    """``url`` may list several servers (``"a:8001,b:8001"`` or a sequence): requests go round-robin.

    Requests that fail because a server is unreachable or unavailable are idempotent, so they are
    sent again (to the next server) with exponential backoff until ``retry_deadline_s`` passes.
    Errors about the request itself (a corrupt image) are never retried.

    Over gRPC one client may be shared by threads: one channel for all of them costs the client
    ~0.3 core-ms less per 1080p request than a client per thread (measured 2026-11-25 with
    ``benchmarks.cpu_accounting``).
    tritonclient's HTTP client runs on gevent and is not thread-safe: one per thread there.

    ``shared_memory=True`` sends numpy frames and receives their masks through system shared
    memory (a server on this host only, one URL): no frame bytes cross the socket. Over gRPC such
    a client too may be shared by threads, with frames of different sizes (a pool of regions each).
    """

    def __init__(self, url: str | Sequence[str] | None = None, protocol: str = "grpc",
                 model: str = protocol.ENSEMBLE, raw_model: str = protocol.ENSEMBLE_RAW,
                 timeout_s: float | None = 60.0, max_in_flight: int = 4,
                 retry_deadline_s: float = 30.0, backoff_s: float = 0.1, shared_memory: bool = False) -> None:
        if protocol not in DEFAULT_URLS:
            raise ValueError(f"protocol must be 'grpc' or 'http', not {protocol!r}")
        urls = url.split(",") if isinstance(url, str) else list(url or [DEFAULT_URLS[protocol]])
        self.urls, self.protocol = [u.strip() for u in urls if u.strip()], protocol
        self.url = ",".join(self.urls)
        self.model, self.raw_model = model, raw_model
        self.timeout_s, self.max_in_flight = timeout_s, max(1, max_in_flight)
        self.retry_deadline_s, self.backoff_s = retry_deadline_s, backoff_s
        if protocol == "grpc":
            import tritonclient.grpc as tc
            clients = [tc.InferenceServerClient(u) for u in self.urls]
        else:
            import gevent
            import tritonclient.http as tc
            hub = gevent.get_hub()  # connection errors reach the caller as SkySegError; don't print them too
            hub.NOT_ERROR = tuple(set(hub.NOT_ERROR) | {ConnectionError, TimeoutError})
            timeout = timeout_s or 60.0
            clients = [tc.InferenceServerClient(u, concurrency=self.max_in_flight, connection_timeout=timeout,
                                                network_timeout=timeout) for u in self.urls]
        self._tc = tc
        self._clients = list(zip(self.urls, clients, strict=True))
        self._rotation = itertools.cycle(range(len(clients)))
        self._lock = threading.Lock()
        self._frames = None
        if shared_memory:
            if len(clients) != 1:
                raise ValueError("shared_memory needs exactly one server URL on this host")
            from .shared_memory import FrameRing
            self._frames = FrameRing(clients[0], tc, self.max_in_flight + 1)

    def _next_client(self):
        with self._lock:
            return self._clients[next(self._rotation)]

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()
        for _, client in self._clients:
            client.close()

    def __enter__(self) -> "SkySegClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def is_ready(self) -> bool:
        """True when at least one server is live with the model ready."""
        for _, client in self._clients:
            try:
                if client.is_server_ready() and client.is_model_ready(self.model):
                    return True
            except Exception:  # noqa: BLE001 - unreachable means not ready
                continue
        return False

    # -- single and many images -------------------------------------------------------------------
    def segment(self, image: ImageLike) -> np.ndarray:
        """Sky mask (uint8 HxW at the image's size, 255 = sky). ndarrays are BGR, as OpenCV reads them."""
        outcome = self._await(image, self._submit_safely(image))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def segment_many(self, images: Iterable[ImageLike], return_exceptions: bool = False) -> list:
        """Masks in input order with up to ``max_in_flight`` requests overlapping.

        With ``return_exceptions`` a failed image yields its ``SkySegError`` in its place;
        otherwise the first failure is raised once the requests already sent have finished.
        """
        results: list = []
        for outcome in self._pipelined(images, lambda item: item):
            if isinstance(outcome, Exception) and not return_exceptions:
                raise outcome
            results.append(outcome)
        return results

    def segment_video(self, source: str | PathLike | Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(frame_bgr, mask)`` in frame order: a video file's frames, or ``segment_frames(source)``."""
        yield from self.segment_frames(_read_frames(source) if isinstance(source, (str, PathLike)) else source)

    def segment_frames(self, frames: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(frame_bgr, mask)`` for each BGR frame, in order, ``max_in_flight`` of them in flight.

        A reader thread pulls ``frames`` up to ``max_in_flight`` ahead, so decoding overlaps both the
        frames in flight and the caller's own work on the previous results (OpenCV releases the GIL).
        An error of ``frames`` is raised here (the frames then in flight are not yielded), as is the
        SkySegError of the first frame that fails on the server. Closing the generator stops the reader.
        """
        for frame, outcome in self._pipelined(read_ahead(frames, self.max_in_flight), lambda f: f, keep_input=True):
            if isinstance(outcome, Exception):
                raise outcome
            yield frame, outcome

    # -- plumbing ----------------------------------------------------------------------------------
    def _pipelined(self, items: Iterable, to_image: Callable[[Any], ImageLike], keep_input: bool = False):
        """Outcomes in input order, with ``max_in_flight`` requests unfinished on the server.

        Over gRPC a request that finishes frees its place at once, even while an older one still
        runs, and its result waits (up to ``REORDER_WINDOW`` x max_in_flight of them) to be handed
        back in order: waiting for the oldest instead left places idle (at 1080p, 8 in flight:
        37.7 vs 44.2 images/s, ``benchmarks.client_pipelining``). HTTP results are fetched in this
        thread, so there the oldest goes first.
        """
        pending: collections.deque = collections.deque()
        places = threading.Semaphore(self.max_in_flight) if self.protocol == "grpc" else None
        window = self.max_in_flight * (REORDER_WINDOW if places is not None else 1)
        for item in items:
            while pending and (len(pending) >= window or (places is not None and pending[0][2].done())):
                yield self._resolve(pending.popleft(), keep_input)
            if places is not None:
                places.acquire()  # until any request in flight finishes
            image = to_image(item)
            future = self._submit_safely(image)
            if places is not None:
                future.add_done_callback(lambda _: places.release())
            pending.append((item, image, future))
        while pending:
            yield self._resolve(pending.popleft(), keep_input)
        if self._frames is not None:
            self._frames.collect(wait_s=1.0, unused_for_s=0.0)  # a finished video's old-size regions go now

    def _resolve(self, entry, keep_input: bool):
        item, image, future = entry
        outcome = self._await(image, future)
        return (item, outcome) if keep_input else outcome

    def _await(self, image: ImageLike, future: Future):
        """The mask, or the SkySegError; unreachable servers are retried with backoff until the deadline."""
        deadline, attempt = time.monotonic() + self.retry_deadline_s, 0
        while True:
            try:
                return future.result()
            except SkySegError as exc:
                if not exc.retryable or time.monotonic() >= deadline:
                    return exc
            pause = min(self.backoff_s * 2 ** attempt, 2.0) * random.uniform(0.5, 1.0)
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
            attempt += 1
            future = self._submit_safely(image)  # the next server in the rotation

    def _submit_safely(self, image: ImageLike) -> Future:
        try:
            return self._submit(image)
        except (SkySegError, TypeError, ValueError, FileNotFoundError) as exc:
            failed: Future = Future()
            failed.set_exception(exc if isinstance(exc, SkySegError) else SkySegError(str(exc)))
            return failed

    def _submit(self, image: ImageLike) -> Future:
        if self._frames is not None and isinstance(image, np.ndarray):
            model = self.raw_model
            rgb = _to_rgb(image)
            try:
                inputs, outputs, read_mask, release = self._frames.request(rgb)
            except Exception as exc:  # noqa: BLE001 - region creation/registration: name the server
                raise from_triton(exc, model, self.url) from exc
        else:
            model, inputs = self._request(image)
            outputs = [self._tc.InferRequestedOutput(name) for name in (protocol.MASK_BITS, protocol.MASK_SIZE)]
            read_mask, release = None, _nothing
        url, client = self._next_client()
        future: Future = Future()
        if self.protocol == "grpc":
            def done(result, error):
                outcome: Any = None
                try:
                    if error is not None:
                        outcome = from_triton(error, model, url)
                    else:
                        outcome = read_mask() if read_mask is not None else _mask_of(result)
                except Exception as exc:  # noqa: BLE001 - a reply we cannot read fails its request only
                    outcome = SkySegError(f"{model} on {url}: unreadable response ({exc})")
                finally:
                    release()  # before anyone sees the result: they may reuse or retire the slot
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            try:
                client.async_infer(model, inputs, done, outputs=outputs, client_timeout=self.timeout_s)
            except Exception as exc:  # noqa: BLE001
                release()
                future.set_exception(from_triton(exc, model, url))
            return future
        try:
            handle = client.async_infer(model, inputs, outputs=outputs)
        except Exception as exc:  # noqa: BLE001
            release()
            future.set_exception(from_triton(exc, model, url))
            return future
        return _HttpFuture(handle, model, url, read_mask, release)

    def _request(self, image: ImageLike):
        image = read_if_path(image)
        if isinstance(image, (bytes, bytearray, memoryview)):
            tensor = self._tc.InferInput(protocol.IMAGE, [1, 1], "BYTES")
            tensor.set_data_from_numpy(np.array([[bytes(image)]], dtype=np.object_))
            return self.model, [tensor]
        if isinstance(image, np.ndarray):
            rgb = _to_rgb(image)
            tensor = self._tc.InferInput(protocol.FRAME, [1, *rgb.shape], "UINT8")
            tensor.set_data_from_numpy(rgb[None])
            return self.raw_model, [tensor]
        raise TypeError(f"cannot segment a {type(image).__name__}: pass a path, encoded bytes or a uint8 ndarray")


def read_if_path(image: ImageLike) -> ImageLike:
    """A path's bytes (a missing file named); bytes and arrays as they are."""
    if isinstance(image, (str, PathLike)):
        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"no such image file: {path}")
        return path.read_bytes()
    return image


class _HttpFuture(Future):
    """tritonclient.http's async handle, resolved on demand in the caller's thread (gevent)."""

    def __init__(self, handle, model: str, url: str, read_mask: Callable[[], np.ndarray] | None = None,
                 release: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._handle, self._model, self._url, self._read_mask = handle, model, url, read_mask
        self._release = release or _nothing

    def result(self, timeout=None):
        if not self.done():
            try:
                result = self._handle.get_result()
                self.set_result(self._read_mask() if self._read_mask is not None else _mask_of(result))
            except Exception as exc:  # noqa: BLE001
                self.set_exception(from_triton(exc, self._model, self._url))
            finally:
                self._release()
        return super().result(timeout)


def _nothing() -> None:
    pass


def _mask_of(result) -> np.ndarray:
    """The 0/255 mask of a one-image response (MASK_BITS unpacked to MASK_SIZE's width)."""
    _, width = result.as_numpy(protocol.MASK_SIZE)[0]
    return protocol.unpack_mask(result.as_numpy(protocol.MASK_BITS)[0], int(width))


def _to_rgb(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        raise TypeError(f"frames must be uint8, got {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    raise ValueError(f"frames must be HxW, HxWx3 (BGR) or HxWx4 (BGRA), got shape {image.shape}")


def read_ahead(items: Iterable, depth: int) -> Iterator:
    """``items`` consumed by a background thread up to ``depth`` ahead of the caller; its errors
    are raised in the caller's thread, and closing the generator stops the thread."""
    buffer: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    done = object()

    def offer(entry) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((item, None)):
                    return
            offer((done, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            offer((done, exc))

    thread = threading.Thread(target=produce, name="skyseg-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if item is done:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=1.0)


def _read_frames(path: str | PathLike) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise FileNotFoundError(f"cannot open video {path}")
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
    finally:
        capture.release()
