"""INT8 ONNX for CPUs: ONNX Runtime static quantization (QDQ), calibrated on real training images.

Calibration feeds the same letterboxed tensors the server feeds, from training splits only
(never the evaluation sets).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from skyseg import ops, pipeline
from skyseg.contract import MODEL_INPUT, Contract


class _LetterboxReader:
    """onnxruntime.quantization.CalibrationDataReader over image files."""

    def __init__(self, paths: Sequence[Path], contract: Contract) -> None:
        self._paths = iter(paths)
        self._contract = contract

    def get_next(self) -> dict[str, np.ndarray] | None:
        path = next(self._paths, None)
        if path is None:
            return None
        tensor, _, _ = pipeline.prepare(ops.decode_image(Path(path).read_bytes()), self._contract)
        return {MODEL_INPUT: tensor[None]}


def depthwise_convs(onnx_path: Path) -> list[str]:
    """Depthwise convolutions: on AVX2 without VNNI they gain nothing in INT8 and pay Q/DQ costs."""
    import onnx

    graph = onnx.load(str(onnx_path)).graph
    return [n.name for n in graph.node if n.op_type == "Conv"
            and any(a.name == "group" and a.i > 1 for a in n.attribute)]


def quantize_int8(onnx_path: Path, out: Path, calibration: Sequence[Path], contract: Contract,
                  per_channel: bool = True, keep_depthwise_fp32: bool = True) -> Path:
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not calibration:
        raise ValueError("INT8 calibration needs images; none were given")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(onnx_path), str(prepared))  # shape inference + graph clean-up first
        quantize_static(str(prepared), str(out), _LetterboxReader(calibration, contract),
                        quant_format=QuantFormat.QDQ, per_channel=per_channel,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,  # U8S8: AVX2's fast path
                        calibrate_method=CalibrationMethod.MinMax,
                        nodes_to_exclude=depthwise_convs(prepared) if keep_depthwise_fp32 else [])
    return out
