"""The serving image ops, loaded from the Triton repository so offline paths run the same code."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

OPS_FILE = Path(os.environ.get(
    "SKYSEG_OPS_FILE",
    Path(__file__).resolve().parents[1] / "model_repository" / "preprocess" / "1" / "skyseg_ops.py"))

_spec = importlib.util.spec_from_file_location("skyseg_ops", OPS_FILE)
if _spec is None or _spec.loader is None:
    raise ImportError(f"cannot load the serving ops from {OPS_FILE}")
_ops = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ops)

BadImageError = _ops.BadImageError
decode_image = _ops.decode_image
decode_for_model = _ops.decode_for_model
check_frame = _ops.check_frame
letterbox = _ops.letterbox
logits_to_mask = _ops.logits_to_mask
refine = _ops.refine
guided_filter = _ops.guided_filter
