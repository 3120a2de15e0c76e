"""The training photos whose sky a model most misses, written as a split of their own
(``skyseg mine-positives``): hard-positive mining, the counterpart of train/mine_negatives.py.

Mined negatives took the false sky off ADE20K's attic only when they held tennis-hall roofs, and
those roofs also took field_annarbor.mp4's cumulus (train/EXPERIMENTS.md, E33-E39): to the network a
pale sloping ceiling and a grey cloud underside look alike. Drawing the skies that such a model
misses more often, beside the ceilings it must reject, gives the loss both sides of that boundary.

Candidates are training images with at least ``min_sky`` of their labelled pixels sky; the score is
the sky the model misses, sum(1 - p) over the labelled sky, as a share of the labelled pixels (so a
large missed cloud outranks a small missed strip). Ignored pixels (teacher labels' 255) count for
neither side. The split carries ``mined.json`` like a mined negative split.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from tqdm import tqdm

from skyseg.contract import Contract
from skyseg.labels import IGNORE, SKY

from .evaluate import dataset_pairs
from .mine_negatives import SkyProbability, check_request, mined_record, onnx_sky_probability, write_split


@dataclass(frozen=True)
class Positive:
    split: str
    stem: str
    missed_sky: float  #: sum(1 - p) over the labelled sky / labelled pixels: the mass of the miss
    sky_share: float  #: labelled sky / labelled pixels


def _read(image: Path, mask: Path) -> tuple[np.ndarray, np.ndarray]:
    bgr = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot decode {image}")
    label = cv2.imread(str(mask), cv2.IMREAD_UNCHANGED)
    if label is None:
        raise FileNotFoundError(f"no label {mask} for {image}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), label


def score(prob: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    """(missed sky, sky share) of one image, the label brought to the probability's grid."""
    small = cv2.resize(label, (prob.shape[1], prob.shape[0]), interpolation=cv2.INTER_NEAREST)
    labelled = small != IGNORE
    n = int(labelled.sum())
    if n == 0:
        return 0.0, 0.0
    sky = small == SKY
    return float((1.0 - prob[sky]).sum() / n), float(sky.sum() / n)


def rank(data_root: Path, splits: Sequence[str], probability: SkyProbability,
         min_sky: float, exclude: frozenset[str] = frozenset()) -> list[Positive]:
    """Every image of ``splits`` with enough labelled sky, the model's largest miss first."""
    ranked = []
    pairs = [(s, i, m) for s in splits for i, m in dataset_pairs(data_root, s) if i.stem not in exclude]
    for split, image, mask in tqdm(pairs, desc="mining", unit="img"):
        rgb, label = _read(image, mask)
        labelled = label != IGNORE
        if not labelled.any() or (label[labelled] == SKY).mean() < min_sky:
            continue
        missed, share = score(probability(rgb), label)
        ranked.append(Positive(split, image.stem, missed, share))
    return sorted(ranked, key=lambda p: (-p.missed_sky, p.split, p.stem))


def mine(onnx: Path, contract: Contract, data_root: Path, splits: Sequence[str], name: str,
         top: int, min_sky: float = 0.05, threads: int = 0,
         exclude: frozenset[str] = frozenset()) -> list[Positive]:
    """Write the ``top`` images of ``splits`` whose sky the model most misses as split ``name``,
    leaving out the stems in ``exclude`` (labels a person found wrong: :func:`splits.read_stem_list`)."""
    check_request(splits, name, top)
    if not 0 < min_sky < 1:
        raise ValueError(f"--min-sky is a share of the labelled pixels in (0, 1), got {min_sky}")
    ranked = rank(data_root, splits, onnx_sky_probability(onnx, contract, threads), min_sky, exclude)
    if not ranked:
        raise ValueError(f"no image of {', '.join(splits)} under {data_root} has {min_sky:.0%} sky")
    record = mined_record(onnx, splits, top, ranked, min_sky=min_sky, excluded=sorted(exclude))
    write_split(data_root, name, ranked[:top], record)
    return ranked
