"""TensorRT FP16 plan vs ONNX Runtime FP32 on real images (needs TensorRT >= 10 and a CUDA torch)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from skyseg import pipeline
from skyseg.contract import MODEL_INPUT, MODEL_OUTPUT, Contract

MIN_AGREEMENT = 0.995  #: FP16 may flip pixels on the sky boundary, not more


@dataclass
class PlanParity:
    images: int
    mask_agreement: float
    sky_iou_between: float  #: IoU of the two paths' sky masks (1.0 = identical)

    def __str__(self) -> str:
        return (f"plan vs ONNX Runtime over {self.images} images: mask agreement "
                f"{100 * self.mask_agreement:.3f}%, IoU between masks {100 * self.sky_iou_between:.2f}")


def _plan_runner(plan: Path):
    import tensorrt as trt
    import torch

    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(plan.read_bytes())
    context = engine.create_execution_context()

    def run(x: np.ndarray) -> np.ndarray:
        inp = torch.from_numpy(x).cuda()
        context.set_input_shape(MODEL_INPUT, tuple(x.shape))
        out = torch.empty(tuple(context.get_tensor_shape(MODEL_OUTPUT)), dtype=torch.float32, device="cuda")
        context.set_tensor_address(MODEL_INPUT, inp.data_ptr())
        context.set_tensor_address(MODEL_OUTPUT, out.data_ptr())
        stream = torch.cuda.current_stream()
        context.execute_async_v3(stream.cuda_stream)
        stream.synchronize()
        return out.cpu().numpy()
    return run


def check_plan_parity(plan: Path, onnx_path: Path, contract: Contract, images: Sequence[np.ndarray]) -> PlanParity:
    from .parity import ParityError, ort_session

    session, run_plan = ort_session(onnx_path), _plan_runner(plan)
    agree = total = inter = union = 0
    for rgb in images:
        tensor, geometry, guide = pipeline.prepare(rgb, contract)
        a = pipeline.to_mask(session.run(None, {MODEL_INPUT: tensor[None]})[0][0], geometry, guide, contract,
                        refined=False) == 255
        b = pipeline.to_mask(run_plan(tensor[None])[0], geometry, guide, contract, refined=False) == 255
        agree, total = agree + int((a == b).sum()), total + a.size
        inter, union = inter + int((a & b).sum()), union + int((a | b).sum())
    report = PlanParity(len(images), agree / max(total, 1), inter / max(union, 1))
    if report.mask_agreement < MIN_AGREEMENT:
        raise ParityError(f"the TensorRT plan disagrees with ONNX Runtime: {report}")
    return report
