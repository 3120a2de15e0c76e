"""The serving contract, derived from the training config (the one source of truth).

Everything a Triton model needs to reproduce the training-time preprocessing (input size,
mean/std, channel order, class order) is read here from an MMSeg config and then written into
config.pbtxt parameters by ``skyseg build-repo``; the Python models read it back from there.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from skyseg_client.protocol import (ENSEMBLE, ENSEMBLE_MASK, ENSEMBLE_RAW, ENSEMBLE_RAW_MASK,  # noqa: F401
                                    FRAME, IMAGE, MASK, MASK_BITS, MASK_SIZE, MAX_BATCH_SIZE)

from .labels import CLASSES
from .ops.refinement import Refinement

#: Internal tensors between the ensemble steps (never seen by clients).
MODEL_INPUT = "input"  #: FP32 [batch, 3, H, W], normalised RGB (H, W: the canvas, see size_divisor)
MODEL_OUTPUT = "logits"  #: FP32 [batch, classes, H/stride, W/stride]
GEOMETRY = "GEOMETRY"  #: INT32 [batch, 4]: original h, w and letterboxed h, w
GUIDE = "GUIDE"  #: UINT8 [batch, H, W]: the grey letterboxed canvas, edges for the mask refinement
#: Step model names in the repository.
PREPROCESS, PREPROCESS_RAW, NETWORK, POSTPROCESS = "preprocess", "preprocess_raw", "bisenetv2", "postprocess"
#: The serving limits' defaults (``skyseg build-repo`` options, also what local inference applies):
#: images declaring more pixels are refused from their header, before decoding (bombs), and
#: encoded uploads above this size are refused (Triton 2.51 has no request-size flag).
MAX_PIXELS = 64_000_000
MAX_BYTES = 32 << 20
#: ONNX metadata key under which ``skyseg export`` stores the contract (generated, never edited).
ONNX_METADATA_KEY = "skyseg_contract"


PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _cascade_vector(path: str | None) -> tuple[float, ...]:
    """The flat cascade vector from ``sky_refine.cascade``'s JSON file (a path relative to the
    project root, like ``load_from``)."""
    if not path:
        return ()
    file = Path(path) if Path(path).is_absolute() else PROJECT_ROOT / path
    if not file.is_file():
        raise FileNotFoundError(f"sky_refine.cascade: no file {file} (write it with `skyseg fit-refine --cascade`)")
    return tuple(float(v) for v in json.loads(file.read_text())["vector"])


@dataclass(frozen=True)
class Contract:
    input_height: int
    input_width: int
    mean: tuple[float, float, float]  #: RGB, 0..255 scale
    std: tuple[float, float, float]
    classes: tuple[str, ...]
    sky_index: int
    #: edge-aware refinement of the sky probability, tuned with the model, so it travels with it
    refine: Refinement = Refinement()
    #: the network's tensor is the image fitted into (input_height, input_width) and padded up to a
    #: multiple of this (MMSeg's test-time ``size_divisor``); 0 = always the whole input box.
    size_divisor: int = 0

    @classmethod
    def from_config(cls, cfg) -> "Contract":
        """From a loaded training config (``skyseg.train.runner.load_contract`` loads the file)."""
        preprocessor = cfg.model.data_preprocessor
        if not preprocessor.get("bgr_to_rgb", False):
            raise ValueError("the serving ops feed RGB; the config's data_preprocessor must set bgr_to_rgb=True")
        height, width = cfg.input_size
        refine = cfg.get("sky_refine") or {}
        size_divisor = (preprocessor.get("test_cfg") or {}).get("size_divisor") or 0
        if size_divisor and (height % size_divisor or width % size_divisor):
            raise ValueError(f"input_size {cfg.input_size} must be a multiple of size_divisor {size_divisor}")
        try:
            refinement = Refinement(int(refine.get("radius", 0)), float(refine.get("eps", 1e-3)),
                                    int(refine.get("subsample", 1)), tuple(refine.get("trust", (1.0, 1.0))),
                                    tuple(refine.get("learned", ())), _cascade_vector(refine.get("cascade")))
        except ValueError as exc:
            raise ValueError(f"sky_refine: {exc}") from None
        return cls(int(height), int(width), tuple(map(float, preprocessor.mean)),
                   tuple(map(float, preprocessor.std)), tuple(CLASSES), CLASSES.index("sky"),
                   refinement, int(size_divisor))

    @classmethod
    def from_dict(cls, values: dict) -> "Contract":
        """From :meth:`to_json`'s fields; also reads the flat ``refine_*`` keys of models exported
        before the refinement became one object (2026-12-04)."""
        values = dict(values)
        legacy = {k.removeprefix("refine_"): values.pop(k) for k in list(values) if k.startswith("refine_")}
        refine = values.pop("refine", None) or legacy
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**fields, refine=Refinement(**{k: tuple(v) if isinstance(v, list) else v for k, v in refine.items()}))

    @classmethod
    def from_onnx(cls, path: str | Path) -> "Contract":
        """The copy ``skyseg export`` stores in the model's metadata, for hosts without MMSeg."""
        import onnx

        metadata = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        if ONNX_METADATA_KEY not in metadata:
            raise ValueError(f"{path} carries no {ONNX_METADATA_KEY} metadata; re-export it with `skyseg export`")
        return cls.from_dict(json.loads(metadata[ONNX_METADATA_KEY]))

    @property
    def input_hw(self) -> tuple[int, int]:
        return self.input_height, self.input_width

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)
