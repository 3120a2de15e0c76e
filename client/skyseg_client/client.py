"""``SkySegClient``: one API over tritonclient's gRPC and HTTP clients.

Encoded images go to the ``sky_segmentation`` ensemble untouched (the server decodes them);
numpy frames go to ``sky_segmentation_raw``. Several requests are kept in flight with the
clients' own ``async_infer`` so the server can batch them, and results come back in input order.
"""
from __future__ import annotations

import collections
from concurrent.futures import Future
from os import PathLike
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Union

import cv2
import numpy as np

from . import protocol
from .errors import SkySegError, from_triton

ImageLike = Union[str, PathLike, bytes, bytearray, memoryview, np.ndarray]
DEFAULT_URLS = {"grpc": "localhost:8001", "http": "localhost:8000"}


class SkySegClient:
    def __init__(self, url: str | None = None, protocol: str = "grpc", model: str = protocol.ENSEMBLE,
                 raw_model: str = protocol.ENSEMBLE_RAW, timeout_s: float | None = 60.0,
                 max_in_flight: int = 4) -> None:
        if protocol not in DEFAULT_URLS:
            raise ValueError(f"protocol must be 'grpc' or 'http', not {protocol!r}")
        self.url, self.protocol = url or DEFAULT_URLS[protocol], protocol
        self.model, self.raw_model = model, raw_model
        self.timeout_s, self.max_in_flight = timeout_s, max(1, max_in_flight)
        if protocol == "grpc":
            import tritonclient.grpc as tc
            self._client = tc.InferenceServerClient(self.url)
        else:
            import tritonclient.http as tc
            timeout = timeout_s or 60.0
            self._client = tc.InferenceServerClient(self.url, concurrency=self.max_in_flight,
                                                    connection_timeout=timeout, network_timeout=timeout)
        self._tc = tc

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "SkySegClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def is_ready(self) -> bool:
        try:
            return bool(self._client.is_server_ready() and self._client.is_model_ready(self.model))
        except Exception:  # noqa: BLE001 - unreachable means not ready
            return False

    # -- single and many images -------------------------------------------------------------------
    def segment(self, image: ImageLike) -> np.ndarray:
        """Sky mask (uint8 HxW at the image's size, 255 = sky). ndarrays are BGR, as OpenCV reads them."""
        return self._submit(image).result()

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
        """Yield ``(frame_bgr, mask)`` in frame order; decoding overlaps with frames in flight."""
        frames = _read_frames(source) if isinstance(source, (str, PathLike)) else iter(source)
        for frame, outcome in self._pipelined(frames, lambda f: f, keep_input=True):
            if isinstance(outcome, Exception):
                raise outcome
            yield frame, outcome

    # -- plumbing ----------------------------------------------------------------------------------
    def _pipelined(self, items: Iterable, to_image: Callable[[Any], ImageLike], keep_input: bool = False):
        pending: collections.deque = collections.deque()
        for item in items:
            pending.append((item, self._submit_safely(to_image(item))))
            if len(pending) >= self.max_in_flight:
                yield self._resolve(pending.popleft(), keep_input)
        while pending:
            yield self._resolve(pending.popleft(), keep_input)

    @staticmethod
    def _resolve(entry, keep_input: bool):
        item, future = entry
        try:
            outcome = future.result()
        except SkySegError as exc:
            outcome = exc
        return (item, outcome) if keep_input else outcome

    def _submit_safely(self, image: ImageLike) -> Future:
        try:
            return self._submit(image)
        except (SkySegError, TypeError, ValueError, FileNotFoundError) as exc:
            failed: Future = Future()
            failed.set_exception(exc if isinstance(exc, SkySegError) else SkySegError(str(exc)))
            return failed

    def _submit(self, image: ImageLike) -> Future:
        model, inputs = self._request(image)
        outputs = [self._tc.InferRequestedOutput(protocol.MASK)]
        future: Future = Future()
        if self.protocol == "grpc":
            def done(result, error):
                if error is not None:
                    future.set_exception(from_triton(error, model, self.url))
                else:
                    future.set_result(np.ascontiguousarray(result.as_numpy(protocol.MASK)[0]))
            try:
                self._client.async_infer(model, inputs, done, outputs=outputs, client_timeout=self.timeout_s)
            except Exception as exc:  # noqa: BLE001
                future.set_exception(from_triton(exc, model, self.url))
            return future
        try:
            handle = self._client.async_infer(model, inputs, outputs=outputs)
        except Exception as exc:  # noqa: BLE001
            future.set_exception(from_triton(exc, model, self.url))
            return future
        return _HttpFuture(handle, model, self.url)

    def _request(self, image: ImageLike):
        if isinstance(image, (str, PathLike)):
            path = Path(image)
            if not path.is_file():
                raise FileNotFoundError(f"no such image file: {path}")
            image = path.read_bytes()
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


class _HttpFuture(Future):
    """tritonclient.http's async handle, resolved on demand in the caller's thread (gevent)."""

    def __init__(self, handle, model: str, url: str) -> None:
        super().__init__()
        self._handle, self._model, self._url = handle, model, url

    def result(self, timeout=None):
        if not self.done():
            try:
                self.set_result(np.ascontiguousarray(self._handle.get_result().as_numpy(protocol.MASK)[0]))
            except Exception as exc:  # noqa: BLE001
                self.set_exception(from_triton(exc, self._model, self._url))
        return super().result(timeout)


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
