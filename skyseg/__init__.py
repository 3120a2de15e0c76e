"""skyseg: real-time sky segmentation (BiSeNetV2 -> ONNX -> Triton ensemble)."""

__version__ = "0.1.0"
