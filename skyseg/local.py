"""Segment without a server: the served pipeline in this process, on ONNX Runtime.

Same ops (``skyseg.ops``), same contract and the same embedded INT8 model as the CPU repository, so
its masks equal the server's pixel for pixel (tests/test_local.py); it needs neither Triton nor
pytriton, so it runs wherever numpy, OpenCV and ONNX Runtime install (macOS, Windows, Linux aarch64).

    from skyseg.local import segment_local
    mask = segment_local("photo.jpg")          # uint8 HxW, 255 = sky
"""
from __future__ import annotations

import json
from os import PathLike
from typing import Iterable, Iterator, Union

import cv2
import numpy as np
from skyseg_client.client import read_if_path
from skyseg_client.errors import SkySegError

from . import ops, pipeline
from .assets import DEFAULT_INT8_ONNX
from .contract import MAX_BYTES, MAX_PIXELS, MODEL_INPUT, ONNX_METADATA_KEY, Contract

ImageLike = Union[str, PathLike, bytes, bytearray, memoryview, np.ndarray]


class LocalSegmenter:
    """``SkySegClient``'s ``segment`` / ``segment_many`` / ``segment_video`` in-process.

    ``onnx`` is a model written by ``skyseg export`` (its contract travels in its metadata);
    ``threads`` ONNX Runtime threads (0: one per core). Bad input raises :class:`SkySegError` with the
    message the server would send.
    """

    def __init__(self, onnx: str | PathLike = DEFAULT_INT8_ONNX, threads: int = 0,
                 max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx), sess_options=options, providers=["CPUExecutionProvider"])
        metadata = self.session.get_modelmeta().custom_metadata_map
        if ONNX_METADATA_KEY not in metadata:
            raise ValueError(f"{onnx} carries no {ONNX_METADATA_KEY} metadata; re-export it with `skyseg export`")
        self.contract = Contract.from_dict(json.loads(metadata[ONNX_METADATA_KEY]))
        self.max_pixels, self.max_bytes = max_pixels, max_bytes

    def __enter__(self) -> "LocalSegmenter":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def segment(self, image: ImageLike) -> np.ndarray:
        """Sky mask (uint8 HxW at the image's size, 255 = sky). ndarrays are BGR, as OpenCV reads them."""
        rgb, original_hw = self._decode(image)
        tensor, geometry, guide = pipeline.prepare(rgb, self.contract, original_hw)
        logits = self.session.run(None, {MODEL_INPUT: tensor[None]})[0][0]
        return pipeline.to_mask(logits, geometry, guide, self.contract)

    def segment_many(self, images: Iterable[ImageLike], return_exceptions: bool = False) -> list:
        """Masks in input order; with ``return_exceptions`` a bad image yields its SkySegError in its place."""
        results: list = []
        for image in images:
            try:
                results.append(self.segment(image))
            except SkySegError as exc:
                if not return_exceptions:
                    raise
                results.append(exc)
        return results

    def segment_frames(self, frames: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(frame_bgr, mask)`` for each BGR frame, in order."""
        for frame in frames:
            yield frame, self.segment(frame)

    def _decode(self, image: ImageLike) -> tuple[np.ndarray, tuple[int, int]]:
        """(RGB, original (h, w)) as the server's preprocess makes them, its refusals as SkySegError."""
        try:
            image = read_if_path(image)
            if isinstance(image, (bytes, bytearray, memoryview)):
                return ops.decode_for_model(bytes(image), self.contract.input_hw, "IMAGE",
                                            self.max_pixels, self.max_bytes)
            if isinstance(image, np.ndarray):
                rgb = ops.check_frame(_bgr_to_rgb(image))
                if rgb.shape[0] * rgb.shape[1] > self.max_pixels:
                    raise ops.BadImageError(f"FRAME has {rgb.shape[1]}x{rgb.shape[0]} pixels, "
                                            f"more than the configured limit of {self.max_pixels}")
                return rgb, rgb.shape[:2]
        except ops.BadImageError as exc:
            raise SkySegError(f"local: {exc}", model="local", status="INVALID_ARG") from None
        raise TypeError(f"cannot segment a {type(image).__name__}: pass a path, encoded bytes or a uint8 ndarray")


def _bgr_to_rgb(image: np.ndarray) -> np.ndarray:
    """OpenCV's layouts (grey, BGR, BGRA) as RGB; anything else is left for ``check_frame`` to refuse."""
    conversions = {2: cv2.COLOR_GRAY2RGB, 3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}
    channels = 2 if image.ndim == 2 else image.shape[2] if image.ndim == 3 else None
    if image.dtype == np.uint8 and channels in conversions and min(image.shape[:2]) > 0:
        return cv2.cvtColor(image, conversions[channels])
    return image


_default: LocalSegmenter | None = None


def segment_local(image: ImageLike) -> np.ndarray:
    """The sky mask of one image with the embedded default model (uint8 HxW, 255 = sky)."""
    global _default
    if _default is None:
        _default = LocalSegmenter()
    return _default.segment(image)
