"""ONNX Runtime vs PyTorch on real images: fails loudly when the exported graph drifts."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from skyseg import pipeline
from skyseg.contract import Contract

MAX_ABS_LOGIT_DIFF = 1e-3
MIN_MASK_AGREEMENT = 0.9999


class ParityError(AssertionError):
    pass


@dataclass
class ParityReport:
    images: int
    max_abs_logit_diff: float
    mask_agreement: float  #: fraction of full-resolution mask pixels that agree

    def __str__(self) -> str:
        return (f"parity over {self.images} images: max |logit diff| {self.max_abs_logit_diff:.2e}, "
                f"mask agreement {100 * self.mask_agreement:.4f}%")


def ort_session(onnx_path: str | Path, threads: int = 0):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])


def check_parity(net: torch.nn.Module, onnx_path: str | Path, contract: Contract,
                 images: Sequence[np.ndarray]) -> ParityReport:
    """``images`` are RGB uint8 arrays of any size; both paths share the serving letterbox."""
    session = ort_session(onnx_path)
    worst, agree, total = 0.0, 0, 0
    for rgb in images:
        tensor, geometry, guide = pipeline.prepare(rgb, contract)
        with torch.no_grad():
            expected = net(torch.from_numpy(tensor[None])).numpy()[0]
        actual = session.run(None, {session.get_inputs()[0].name: tensor[None]})[0][0]
        worst = max(worst, float(np.abs(expected - actual).max()))
        a = pipeline.to_mask(expected, geometry, guide, contract, refined=False)
        b = pipeline.to_mask(actual, geometry, guide, contract, refined=False)
        agree, total = agree + int((a == b).sum()), total + a.size
    report = ParityReport(len(images), worst, agree / max(total, 1))
    if report.max_abs_logit_diff > MAX_ABS_LOGIT_DIFF or report.mask_agreement < MIN_MASK_AGREEMENT:
        raise ParityError(f"ONNX export does not match PyTorch: {report} (limits: diff <= "
                          f"{MAX_ABS_LOGIT_DIFF}, agreement >= {100 * MIN_MASK_AGREEMENT}%)")
    return report
