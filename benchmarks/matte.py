"""Which soft matte looks right at the sky's edge: the feathered mask, or the served probability?

    python -m benchmarks.matte
    python -m benchmarks.matte --onnx model.int8.onnx --sets ade20k_sky/train

Sky replacement blends a new sky in through a matte. ADE20K's sky masks in ``../shared/data``
are soft (refined for sky editing), so they are a ground-truth alpha: for every photo with sky,
each candidate matte is compared with it in the boundary band (pixels within 1% of the diagonal
of the true edge, where a matte is seen) as mean absolute alpha error, and as the colour error of
a composite over a flat new sky there (what a viewer sees; the original photo stands in for the
foreground). Candidates: the hard mask, the mask feathered at three widths (the client's default is
0.2% of the diagonal), and the served pipeline's own probability before its threshold (guided
filter and learned refinement: ``ops.refine``), plain or feathered. Photos whose mask misses the
sky (IoU < 80) are reported apart: there no matte can help. Writes ``results/matte.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common.images import ROOT, SHARED
from skyseg import ops, pipeline
from skyseg.assets import DEFAULT_INT8_ONNX

DEFAULT_SETS = ("ade20k_sky/train", "ade20k_sky/dev")
MIN_SKY = 0.01  #: photos with less true sky are skipped: no edge to judge
MISS_IOU = 0.80
NEW_SKY_BGR = np.array([235, 160, 90], np.float32)  #: a flat mid-blue: the edge's colour error shows against it


def _feather(alpha: np.ndarray, fraction: float) -> np.ndarray:
    sigma = fraction * float(np.hypot(*alpha.shape[:2]))
    return cv2.GaussianBlur(alpha, (0, 0), sigma) if sigma > 0 else alpha


def candidate_mattes(mask: np.ndarray, probability: np.ndarray) -> dict[str, np.ndarray]:
    """The mattes a replacement could blend with, each float32 0..1 at the photo's size."""
    hard = (mask > 127).astype(np.float32)
    return {
        "hard mask": hard,
        "feathered mask 0.1%": _feather(hard, 0.001),
        "feathered mask 0.2% (default)": _feather(hard, 0.002),
        "feathered mask 0.4%": _feather(hard, 0.004),
        "served probability": probability,
        "served probability feathered 0.1%": _feather(probability, 0.001),
    }


def band_of(truth: np.ndarray) -> np.ndarray:
    """Pixels within 1% of the diagonal of the true sky edge, plus the true alpha's soft pixels."""
    hard = (truth >= 0.5).astype(np.uint8)
    radius = max(2, int(round(0.01 * float(np.hypot(*truth.shape)))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    edge = cv2.dilate(hard, kernel) != cv2.erode(hard, kernel)
    return edge | ((truth > 0.02) & (truth < 0.98))


def served_outputs(session, contract, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(0/255 mask, sky probability 0..1 before the threshold), both at the photo's size."""
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    tensor, geometry, guide = pipeline.prepare(rgb, contract)
    logits = session.run(None, {session.get_inputs()[0].name: tensor[None]})[0][0]
    mask = pipeline.to_mask(logits, geometry, guide, contract)
    probability = ops.refine(logits, guide, geometry, guide.shape, contract.sky_index, contract.refine)
    probability = cv2.resize(probability, (bgr.shape[1], bgr.shape[0]), interpolation=cv2.INTER_LINEAR)
    return mask, probability.astype(np.float32) / 255.0


def score(bgr: np.ndarray, truth: np.ndarray, mattes: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Per matte: (mean |alpha error| in the band, mean composite colour error there in 0..255)."""
    band = band_of(truth)
    photo = bgr.astype(np.float32)[band]
    reference = truth[band, None] * NEW_SKY_BGR + (1 - truth[band, None]) * photo
    out = {}
    for name, alpha in mattes.items():
        a = alpha[band, None]
        composite = a * NEW_SKY_BGR + (1 - a) * photo
        out[name] = (float(np.abs(a - truth[band, None]).mean()), float(np.abs(composite - reference).mean()))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--onnx", type=Path, default=DEFAULT_INT8_ONNX)
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS),
                        help="folders under ../shared/data with images/ and soft masks/")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "matte.json")
    args = parser.parse_args(argv)
    from skyseg.local import LocalSegmenter
    from tqdm import tqdm

    pairs = [(image, SHARED / name / "masks" / f"{image.stem}.png")
             for name in args.sets for image in sorted((SHARED / name / "images").glob("*.jpg"))]
    if not pairs:
        print(f"skipped: no soft-masked photos under {SHARED} ({', '.join(args.sets)}); the research data is not here")
        return 0
    segmenter = LocalSegmenter(args.onnx)
    rows: dict[str, dict[str, list]] = {"edge found": {}, "sky missed": {}}
    counts = {"edge found": 0, "sky missed": 0, "no sky": 0}
    for image, label in tqdm(pairs, desc="mattes", unit="photo"):
        bgr = cv2.imread(str(image))
        truth = cv2.imread(str(label), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255.0
        if (truth >= 0.5).mean() < MIN_SKY:
            counts["no sky"] += 1
            continue
        mask, probability = served_outputs(segmenter.session, segmenter.contract, bgr)
        sky, true_sky = mask > 127, truth >= 0.5
        iou = (sky & true_sky).sum() / max(1, (sky | true_sky).sum())
        group = "edge found" if iou >= MISS_IOU else "sky missed"
        counts[group] += 1
        for name, values in score(bgr, truth, candidate_mattes(mask, probability)).items():
            rows[group].setdefault(name, []).append(values)
    summary = {group: {name: {"alpha_error": float(np.mean([v[0] for v in values])),
                              "colour_error": float(np.mean([v[1] for v in values]))}
                       for name, values in by_name.items()} for group, by_name in rows.items()}
    for group, by_name in summary.items():
        print(f"\n{group} ({counts[group]} photos): in the band along the true sky edge")
        print(f"  {'matte':36s} {'|alpha error|':>14s} {'colour error':>13s}")
        for name, values in by_name.items():
            print(f"  {name:36s} {values['alpha_error']:14.3f} {values['colour_error']:13.1f}")
    print(f"\n{counts['no sky']} photos without sky skipped")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"onnx": str(args.onnx.name), "sets": args.sets, "counts": counts,
                                    "miss_iou": MISS_IOU, "summary": summary}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
