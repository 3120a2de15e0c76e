"""The serving contract, derived from the training config (the one source of truth).

Everything a Triton model needs to reproduce the training-time preprocessing (input size,
mean/std, channel order, class order) is read here from an MMSeg config and then written into
config.pbtxt parameters by ``skyseg build-repo``; the Python models read it back from there.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from skyseg_client.protocol import (ENSEMBLE, ENSEMBLE_RAW, FRAME, IMAGE, MASK_BITS, MASK_SIZE,  # noqa: F401
                                    MAX_BATCH_SIZE)

#: Internal tensors between the ensemble steps (never seen by clients).
MODEL_INPUT = "input"  #: FP32 [batch, 3, H, W], normalised RGB (H, W: the canvas, see size_divisor)
MODEL_OUTPUT = "logits"  #: FP32 [batch, classes, H/stride, W/stride]
GEOMETRY = "GEOMETRY"  #: INT32 [batch, 4]: original h, w and letterboxed h, w
GUIDE = "GUIDE"  #: UINT8 [batch, H, W]: the grey letterboxed canvas, edges for the mask refinement
#: Step model names in the repository.
PREPROCESS, PREPROCESS_RAW, NETWORK, POSTPROCESS = "preprocess", "preprocess_raw", "bisenetv2", "postprocess"
#: ONNX metadata key under which ``skyseg export`` stores the contract (generated, never edited).
ONNX_METADATA_KEY = "skyseg_contract"


PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _cascade_vector(path: str | None, learned: tuple[float, ...]) -> tuple[float, ...]:
    """The flat cascade vector from ``sky_refine.cascade``'s JSON file (a path relative to the
    project root, like ``load_from``), checked against the features this server computes."""
    if not path:
        return ()
    if not learned:
        raise ValueError("sky_refine.cascade re-decides part of the learned step's band: it needs sky_refine.learned")
    file = Path(path) if Path(path).is_absolute() else PROJECT_ROOT / path
    if not file.is_file():
        raise FileNotFoundError(f"sky_refine.cascade: no file {file} (write it with `skyseg fit-refine --cascade`)")
    vector = tuple(float(v) for v in json.loads(file.read_text())["vector"])
    from .ops import cascade_layers

    cascade_layers(vector)  # raises, naming the mismatch, if the file does not fit the features
    return vector


@dataclass(frozen=True)
class Contract:
    input_height: int
    input_width: int
    mean: tuple[float, float, float]  #: RGB, 0..255 scale
    std: tuple[float, float, float]
    classes: tuple[str, ...]
    sky_index: int
    #: edge-aware refinement of the sky probability (guided filter at the input resolution);
    #: radius in input pixels, 0 = off. Tuned with the model, so it travels with it.
    refine_radius: int = 0
    refine_eps: float = 1e-3
    #: the guided filter's coefficients are fitted on a grid this many times coarser (He's fast
    #: guided filter); 1 = the plain filter.
    refine_subsample: int = 1
    #: (low, high) confidence |2p - 1| of the network: at ``high`` and above its own probability is
    #: kept, at ``low`` and below the guided filter's; (1, 1) = the filter everywhere.
    refine_trust: tuple[float, float] = (1.0, 1.0)
    #: weights of the learned refinement in the uncertain band, one per ``ops.LEARNED_FEATURES``
    #: (fitted by ``skyseg fit-refine``); empty = off.
    refine_learned: tuple[float, ...] = ()
    #: the cascade MLP that re-decides the band where the learned weights are least sure, as one
    #: flat vector (``ops.cascade_layers``; R16), read from the JSON file ``sky_refine.cascade``
    #: names (written by ``skyseg fit-refine --cascade``); empty = off. Needs ``refine_learned``.
    refine_cascade: tuple[float, ...] = ()
    #: the network's tensor is the image fitted into (input_height, input_width) and padded up to a
    #: multiple of this (MMSeg's test-time ``size_divisor``); 0 = always the whole input box.
    size_divisor: int = 0

    @classmethod
    def from_config(cls, cfg) -> "Contract":
        preprocessor = cfg.model.data_preprocessor
        if not preprocessor.get("bgr_to_rgb", False):
            raise ValueError("the serving ops feed RGB; the config's data_preprocessor must set bgr_to_rgb=True")
        from .train.labels import CLASSES

        height, width = cfg.input_size
        refine = cfg.get("sky_refine") or {}
        size_divisor = (preprocessor.get("test_cfg") or {}).get("size_divisor") or 0
        if size_divisor and (height % size_divisor or width % size_divisor):
            raise ValueError(f"input_size {cfg.input_size} must be a multiple of size_divisor {size_divisor}")
        trust = tuple(float(v) for v in refine.get("trust", (1.0, 1.0)))
        if len(trust) != 2 or not (trust[0] >= 1.0 or 0.0 <= trust[0] < trust[1] <= 1.0):
            raise ValueError(f"sky_refine.trust must be (low, high) with 0 <= low < high <= 1, got {trust}")
        learned = tuple(float(v) for v in refine.get("learned", ()))
        from .ops import LEARNED_FEATURES

        if learned and len(learned) != len(LEARNED_FEATURES):
            raise ValueError(f"sky_refine.learned needs {len(LEARNED_FEATURES)} weights "
                             f"({', '.join(LEARNED_FEATURES)}), got {len(learned)}")
        cascade = _cascade_vector(refine.get("cascade"), learned)
        return cls(int(height), int(width), tuple(map(float, preprocessor.mean)),
                   tuple(map(float, preprocessor.std)), tuple(CLASSES), CLASSES.index("sky"),
                   int(refine.get("radius", 0)), float(refine.get("eps", 1e-3)),
                   int(refine.get("subsample", 1)), trust, learned, cascade, int(size_divisor))

    @classmethod
    def from_config_file(cls, path: str | Path) -> "Contract":
        from .train.runner import load_config

        return cls.from_config(load_config(path))

    @classmethod
    def from_onnx(cls, path: str | Path) -> "Contract":
        """The copy ``skyseg export`` stores in the model's metadata, for hosts without MMSeg."""
        import onnx

        metadata = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        if ONNX_METADATA_KEY not in metadata:
            raise ValueError(f"{path} carries no {ONNX_METADATA_KEY} metadata; re-export it with `skyseg export`")
        values = json.loads(metadata[ONNX_METADATA_KEY])
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    @property
    def input_hw(self) -> tuple[int, int]:
        return self.input_height, self.input_width

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)
