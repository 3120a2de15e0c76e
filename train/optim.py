"""Mixed precision for CPU training: bfloat16 autocast, registered as an MMEngine optimizer wrapper.

MMEngine's ``AmpOptimWrapper`` refuses to build without CUDA, NPU, MLU or MUSA. On CPUs with
native bfloat16 oneDNN trains faster in bf16 than in float32: 1.9x with Intel AMX
(train/EXPERIMENTS.md, E8), 1.3x with AVX512-BF16 alone (AMD Zen 5), so ``skyseg train --amp``
uses this wrapper there.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware; elsewhere autocast emulates it, slower than float32."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@OPTIM_WRAPPERS.register_module()
class CPUBF16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward and loss run under ``torch.autocast("cpu", bfloat16)``.

    Autocast keeps the losses and the weights in float32 and casts convolutions and matmuls to
    bfloat16; bfloat16 has float32's exponent range, so unlike float16 no loss scaling is needed.
    """

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        with super().optim_context(model), torch.autocast("cpu", dtype=torch.bfloat16):
            yield
