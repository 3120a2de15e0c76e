"""The sky-free training images a model most takes for sky, written as a split of their own
(``skyseg mine-negatives``): hard-negative mining.

A pale wall beside a window looks, to the network, like the overcast skies of hundreds of
training photos, while only a few dozen sky-free scenes show anything like it (train/EXPERIMENTS.md,
E33): drawn at their share of the mix they barely move the loss. A config gives the mined split a
weight of its own in ``split_weights``, so the scenes the model gets most wrong are drawn more often
without drawing every indoor scene more often (which cost dev skies in E27).

The split is ``<root>/<name>/{images,masks}`` like every converted split, plus ``mined.json``: the
model that mined it (path and SHA-256) and every candidate's score, so a run can be rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from skyseg import pipeline
from skyseg.contract import Contract
from skyseg.labels import SKY

from .evaluate import dataset_pairs
from .splits import is_held_out

SkyProbability = Callable[[np.ndarray], np.ndarray]  # RGB image -> sky probability at the logits' stride


class Mined(Protocol):
    split: str
    stem: str


@dataclass(frozen=True)
class Negative:
    split: str
    stem: str
    false_sky: float  #: mean sky probability over the image: the mass of the model's mistake
    peak: float  #: the highest sky probability anywhere in it


def onnx_sky_probability(onnx: Path, contract: Contract, threads: int = 0) -> SkyProbability:
    """The network's own sky probability (softmax of its logits, no refinement) on the served
    letterbox, cropped to the image: refinement would hide the near misses mining looks for."""
    from skyseg.convert.parity import ort_session

    session = ort_session(onnx, threads)
    name = session.get_inputs()[0].name

    def probability(rgb: np.ndarray) -> np.ndarray:
        tensor, geometry, _ = pipeline.prepare(rgb, contract)
        logits = session.run(None, {name: tensor[None]})[0][0].astype(np.float32)
        logits -= logits.max(axis=0, keepdims=True)
        prob = np.exp(logits)
        prob = prob[contract.sky_index] / prob.sum(axis=0)
        stride_h = tensor.shape[1] / prob.shape[0]
        stride_w = tensor.shape[2] / prob.shape[1]
        return prob[:max(1, round(geometry[2] / stride_h)), :max(1, round(geometry[3] / stride_w))]

    return probability


def sky_free_pairs(data_root: Path, splits: Sequence[str]) -> list[tuple[str, Path, Path]]:
    """(split, image, mask) of every image whose label has no sky pixel."""
    out = []
    for split in splits:
        for image, mask in dataset_pairs(data_root, split):
            label = cv2.imread(str(mask), cv2.IMREAD_UNCHANGED)
            if label is None:
                raise FileNotFoundError(f"no label {mask} for {image}")
            if not (label == SKY).any():
                out.append((split, image, mask))
    return out


def rank(candidates: Sequence[tuple[str, Path, Path]], probability: SkyProbability) -> list[Negative]:
    """Candidates, the model's largest false sky first."""
    ranked = []
    for split, image, _ in tqdm(candidates, desc="mining", unit="img"):
        bgr = cv2.imread(str(image), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"cannot decode {image}")
        prob = probability(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        ranked.append(Negative(split, image.stem, float(prob.mean()), float(prob.max())))
    return sorted(ranked, key=lambda n: (-n.false_sky, n.split, n.stem))


def check_request(splits: Sequence[str], name: str, top: int) -> None:
    """Refuse a mining request that would write nothing or train on evaluation images."""
    if top < 1:
        raise ValueError(f"--top must be at least 1, got {top}")
    if name in splits:
        raise ValueError(f"the mined split {name!r} cannot also be a split it is mined from")
    held_out = [s for s in splits if is_held_out(s)]
    if held_out:  # a copy under a new name would smuggle evaluation images into training
        raise ValueError(f"{', '.join(held_out)} is held out for evaluation; mine training splits only")


def mined_record(onnx: Path, splits: Sequence[str], top: int, ranked: Sequence, **settings) -> dict:
    """What ``mined.json`` keeps so a run can be rebuilt: the model, the request, every score."""
    return {"model": str(onnx), "model_sha256": hashlib.sha256(Path(onnx).read_bytes()).hexdigest(),
            "splits": list(splits), "top": top, **settings,
            "chosen": [asdict(n) for n in ranked[:top]], "ranked": [asdict(n) for n in ranked]}


@dataclass(frozen=True)
class Chosen:
    split: str
    stem: str


def replay(record: Path, data_root: Path, name: str) -> list[Chosen]:
    """Write split ``name`` from a kept record's ``chosen`` list (train/mined/), without the model
    that mined it: a run's mined data rebuilt on a machine where that model no longer exists."""
    kept = json.loads(Path(record).read_text())
    chosen = [Chosen(c["split"], c["stem"]) for c in kept.get("chosen", [])]
    if not chosen:  # check_request would blame a --top the user never gave
        raise ValueError(f"{record} chooses no images")
    check_request(sorted({c.split for c in chosen}), name, len(chosen))
    missing = [f"{c.split}/{c.stem}" for c in chosen
               if not (data_root / c.split / "images" / f"{c.stem}.jpg").is_file()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} images of {record} are not under {data_root} "
                                f"(run `skyseg prepare-data` first): {', '.join(missing[:3])}")
    write_split(data_root, name, chosen, {**kept, "replayed_from": str(record)})
    return chosen


def write_split(data_root: Path, name: str, chosen: Sequence[Mined], record: dict) -> Path:
    """Copy the chosen images and labels into ``<data_root>/<name>`` (replacing an earlier mining)."""
    out = data_root / name
    if out.exists():
        shutil.rmtree(out)
    (out / "images").mkdir(parents=True)
    (out / "masks").mkdir()
    for n in chosen:
        shutil.copy2(data_root / n.split / "images" / f"{n.stem}.jpg", out / "images" / f"{n.stem}.jpg")
        shutil.copy2(data_root / n.split / "masks" / f"{n.stem}.png", out / "masks" / f"{n.stem}.png")
    (out / "mined.json").write_text(json.dumps(record, indent=1) + "\n")
    return out


def mine(onnx: Path, contract: Contract, data_root: Path, splits: Sequence[str], name: str,
         top: int, threads: int = 0) -> list[Negative]:
    """Write the ``top`` sky-free images of ``splits`` with the largest false sky as split ``name``."""
    check_request(splits, name, top)
    candidates = sky_free_pairs(data_root, splits)
    if not candidates:
        raise ValueError(f"no sky-free images in {', '.join(splits)} under {data_root}")
    ranked = rank(candidates, onnx_sky_probability(onnx, contract, threads))
    write_split(data_root, name, ranked[:top], mined_record(onnx, splits, top, ranked))
    return ranked
