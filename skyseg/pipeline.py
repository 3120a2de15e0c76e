"""The served pipeline's two Python steps under a :class:`~skyseg.contract.Contract`, in-process.

What the Triton preprocess and postprocess models do to one image, for the offline paths
(evaluation, benchmarks, ``skyseg fit-refine``): same ops, same settings, same masks.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from . import ops
from .contract import Contract
from .ops import refinement as _refine


def prepare(rgb: np.ndarray, contract: Contract, original_hw: Sequence[int] | None = None):
    """(tensor, geometry, guide) as the server's preprocess makes them under ``contract``."""
    return ops.prepare(rgb, contract.input_hw, np.float32(contract.mean), np.float32(contract.std),
                       original_hw, contract.size_divisor)


def to_mask(logits: np.ndarray, geometry, guide: np.ndarray, contract: Contract, refined: bool = True) -> np.ndarray:
    """The server's postprocess: (C, h, w) logits -> 0/255 mask at the original size."""
    return ops.logits_to_mask(logits, geometry, guide.shape, contract.sky_index, guide,
                              contract.refine if refined else None)


def _guided(logits, geometry, guide, contract):
    """The served guided filter under ``contract``: (refined, margin, small_grey, grey)."""
    return ops.guided_refinement(logits, guide, geometry, guide.shape, contract.sky_index, contract.refine)


def learned_inputs(logits, geometry, guide, contract: Contract):
    """(band features, their flat indices) that the server's learned refinement reads under ``contract``: what
    ``skyseg fit-refine`` samples, computed by the same code as the postprocess."""
    return ops.learned_features(*_guided(logits, geometry, guide, contract), contract.refine.subsample)


def cascade_inputs(logits, geometry, guide, contract: Contract, learned, cut):
    """(cascade features [M, F], their flat indices [M]) of the band pixels where the logistic
    ``learned`` is within +-``cut``: what ``skyseg fit-refine --cascade`` samples."""
    index, columns = _refine._band_columns(*_guided(logits, geometry, guide, contract), contract.refine.subsample)
    near, features = _refine.cascade_rows(_refine._learned_logit(columns, learned), columns, guide, geometry, index, cut)
    return features, index[near]
