"""The serving image ops: pure numpy/OpenCV, the one implementation of decode -> letterbox ->
normalise and of logits -> full-resolution mask.

The Triton Python models import this package as ``skyseg_ops`` (``skyseg build-repo`` places it
beside each model.py), and the offline paths (evaluation, benchmarks, ``skyseg fit-refine``) import
it as ``skyseg.ops``, so every path computes the same thing. It imports only numpy and OpenCV, and
its modules import each other relatively, so that it works under either name.
"""
from .decode import BadImageError, check_frame, decode_for_model, decode_image, image_size
from .geometry import Geometry, canvas_size, fit, letterbox, prepare
from .masks import logits_to_mask, pack_mask
from .memory import keep_freed_memory
from .refinement import (CASCADE_FEATURES, LEARNED_FEATURES, Refinement, cascade_features, cascade_layers,
                     cascade_logit, guided_refinement, learned_features, refine)

__all__ = ["BadImageError", "CASCADE_FEATURES", "Geometry", "LEARNED_FEATURES", "Refinement", "canvas_size",
           "cascade_features", "cascade_layers", "cascade_logit", "check_frame", "decode_for_model", "decode_image",
           "fit", "guided_refinement", "image_size", "keep_freed_memory", "learned_features", "letterbox",
           "logits_to_mask", "pack_mask", "prepare", "refine"]
