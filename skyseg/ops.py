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
fit = _ops.fit
canvas_size = _ops.canvas_size
logits_to_mask = _ops.logits_to_mask
refine = _ops.refine
pack_mask = _ops.pack_mask
keep_freed_memory = _ops.keep_freed_memory
learned_features = _ops.learned_features
guided_refinement = _ops.guided_refinement
LEARNED_FEATURES = _ops.LEARNED_FEATURES
CASCADE_FEATURES = _ops.CASCADE_FEATURES
cascade_features = _ops.cascade_features
cascade_logit = _ops.cascade_logit
cascade_layers = _ops.cascade_layers


def prepare(rgb, contract, original_hw=None):
    """(tensor, geometry, guide) as the server's preprocess makes them under ``contract``."""
    import numpy as np

    return _ops.prepare(rgb, contract.input_hw, np.float32(contract.mean), np.float32(contract.std),
                        original_hw, contract.size_divisor)


def to_mask(logits, geometry, guide, contract, refined: bool = True):
    """The server's postprocess: (C, h, w) logits -> 0/255 mask at the original size."""
    return _ops.logits_to_mask(logits, geometry, guide.shape, contract.sky_index, guide,
                               contract.refine_radius if refined else 0, contract.refine_eps,
                               contract.refine_subsample, contract.refine_trust, contract.refine_learned,
                               contract.refine_cascade)


def _guided(logits, geometry, guide, contract):
    """The served guided filter under ``contract``: (refined, margin, small_grey, grey)."""
    return _ops.guided_refinement(logits, guide, geometry, guide.shape, contract.sky_index, contract.refine_radius,
                                  contract.refine_eps, contract.refine_subsample, contract.refine_trust)


def learned_inputs(logits, geometry, guide, contract):
    """(band features, their flat indices) that the server's learned refinement reads under ``contract``: what
    ``skyseg fit-refine`` samples, computed by the same code as the postprocess."""
    return _ops.learned_features(*_guided(logits, geometry, guide, contract), contract.refine_subsample)


def cascade_inputs(logits, geometry, guide, contract, learned, cut):
    """(cascade features [M, F], their flat indices [M]) of the band pixels where the logistic
    ``learned`` is within +-``cut``: what ``skyseg fit-refine --cascade`` samples."""
    index, columns = _ops._band_columns(*_guided(logits, geometry, guide, contract), contract.refine_subsample)
    near, features = _ops.cascade_rows(_ops._learned_logit(columns, learned), columns, guide, geometry, index, cut)
    return features, index[near]
