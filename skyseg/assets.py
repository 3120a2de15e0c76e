"""Files the package carries for building a Triton repository: the embedded default model and the
Python models' sources.

The wheel is the deployable artifact: ``skyseg build-repo`` writes a whole repository from these
(no checkout, no torch), and a user's own model takes the default's place through ``--onnx``.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
#: The embedded default network: FP32 (the GPU plan's source) and its INT8 quantisation (the CPU step).
DEFAULT_ONNX = PACKAGE / "models" / "bisenetv2_sky.onnx"
DEFAULT_INT8_ONNX = PACKAGE / "models" / "bisenetv2_sky.int8.onnx"
#: ``TritonPythonModel`` sources, one per kind of step; build-repo writes each as a model's model.py.
TEMPLATES = PACKAGE / "triton_models"
PREPROCESS_TEMPLATE = TEMPLATES / "preprocess.py"
POSTPROCESS_TEMPLATE = TEMPLATES / "postprocess.py"
NETWORK_ONNX_TEMPLATE = TEMPLATES / "network_onnx.py"
#: The serving ops package, placed beside the models that import it under this name.
OPS = PACKAGE / "ops"
OPS_IMPORT_NAME = "skyseg_ops"
