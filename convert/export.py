"""Export the inference network to one simplified ONNX file with dynamic batch, height and width."""
from __future__ import annotations

import logging
from pathlib import Path

import onnx
import torch

from skyseg.contract import MODEL_INPUT, MODEL_OUTPUT, ONNX_METADATA_KEY, Contract

from .network import LogitsNet

log = logging.getLogger(__name__)
OPSET = 17  # TensorRT 8.6+ and ONNX Runtime 1.16+ both take it


def export_onnx(net: LogitsNet, contract: Contract, out: str | Path, simplify: bool = True) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 3, *contract.input_hw)
    with torch.no_grad():
        torch.onnx.export(net, (dummy,), str(out), input_names=[MODEL_INPUT],
                          output_names=[MODEL_OUTPUT], opset_version=OPSET, dynamo=False,
                          dynamic_axes={MODEL_INPUT: {0: "batch", 2: "height", 3: "width"},
                                        MODEL_OUTPUT: {0: "batch", 2: "height_8", 3: "width_8"}})
    model = onnx.load(str(out))
    if simplify:
        import onnxslim

        before = len(model.graph.node)
        model = onnxslim.slim(model)
        log.info("onnxslim: %d -> %d nodes", before, len(model.graph.node))
    model.doc_string = "skyseg BiSeNetV2 sky segmentation: normalised RGB in, stride-8 logits out"
    onnx.helper.set_model_props(model, {ONNX_METADATA_KEY: contract.to_json()})
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return out
