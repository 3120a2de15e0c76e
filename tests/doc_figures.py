"""The documents' headline figures, rendered from the results files that measured them.

README.md's numbers block and MODEL_CARD.md's scores table are generated here (tests/test_docs.py
fails with the fresh text when a results file changes and a document does not), and the same
figures, where prose restates them, are found by pattern and held to the same values.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = "benchmarks/results/eval_triton_default.json"
COMPARE = "benchmarks/results/compare.json"
#: every document a user or reviewer reads for figures (train/EXPERIMENTS.md is the lab notebook:
#: it keeps every run's figures as they were, by design)
DOCUMENTS = [ROOT / "README.md", ROOT / "MODEL_CARD.md", ROOT / "benchmarks" / "RESULTS.md",
             *sorted((ROOT / "docs").glob("*.md"))]
SCORED = [("camvid_test", "CamVid test"), ("cityscapes_sky_heldout", "cityscapes_sky held-out 20%"),
          ("ade20k_sky_heldout", "ade20k_sky held-out 20%"),
          ("ade20k_dev", "ade20k_dev (50 outdoor photos, a choosing set)"), ("idd_val", "IDD-Lite val (Indian roads)")]


def served() -> dict:
    """Per dataset, the scores through the running Triton ensemble."""
    paths = json.loads((ROOT / EVAL).read_text())["paths"]
    return next(v for k, v in paths.items() if k.startswith("triton"))


def compare() -> dict:
    return json.loads((ROOT / COMPARE).read_text())


def rate(path: str, size: str = "1920x1080") -> float:
    """The best images/s ``compare`` measured for a path at a size."""
    return max(r["images_per_s"] for r in compare()["results"] if r["path"] == path and r["size"] == size)


def render_numbers() -> str:
    """README's figures, each linked to the file that measured it."""
    scores, machine = served(), compare()["machine"]
    dev, camvid, indoor = scores["ade20k_dev"], scores["camvid_test"], scores["ade20k_sky_heldout"]
    rows = [
        ("CamVid test sky IoU, through the served ensemble", f'{camvid["sky_iou"]:.2f}', EVAL),
        ("everyday outdoor photos (ade20k_dev): mean IoU per photo, share at >= 90, missed (< 50)",
         f'{dev["mean_photo_iou"]:.1f}, {dev["photos_at_90_pct"]:.0f}%, {dev["photos_under_50"]} of {dev["sky_photos"]}', EVAL),
        ("false sky on ADE20K photos without sky", f'{indoor["false_sky_rate_pct"]:.2f}% of pixels', EVAL),
        (f'1080p images/s on CPU ({machine["cpu"]}, {machine["nproc"]} cores): the served ensemble over gRPC / the network alone',
         f'{rate("C"):.1f} / {rate("B"):.1f}', COMPARE),
    ]
    lines = ["| figure | value | measured in |", "|---|---:|---|"]
    lines += [f"| {what} | {value} | [{Path(src).name}]({src}) |" for what, value, src in rows]
    return "\n".join(lines)


def render_scores() -> str:
    """MODEL_CARD's scores table: one row per evaluated set."""
    scores = served()
    header = ("| dataset | images (with sky) | sky IoU | 95% interval | precision | recall | boundary F1 (3 px) "
              "| false sky on no-sky images | mean IoU per photo | photos >= 90 | photos < 50 |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, label in SCORED:
        r = scores[key]
        low, high = r["sky_iou_ci95"]
        false_sky = (f'{r["false_sky_rate_pct"]:.2f}% ({r["no_sky_images"]} image{"s" * (r["no_sky_images"] > 1)})'
                     if r["no_sky_images"] else "")
        lines.append(f'| {label} | {r["images"]} ({r["sky_images"]}) | {r["sky_iou"]:.2f} | {low:.2f}-{high:.2f} | '
                     f'{r["sky_precision"]:.2f} | {r["sky_recall"]:.2f} | {r["boundary_f1"]:.3f} | {false_sky} | '
                     f'{r["mean_photo_iou"]:.1f} | {r["photos_at_90_pct"]:.0f}% | {r["photos_under_50"]} |')
    return "\n".join(lines)


def generated_blocks() -> dict[tuple[Path, str], str]:
    """(document, block name) -> the text its ``<!-- name: ... -->`` block must hold."""
    return {(ROOT / "README.md", "numbers"): render_numbers(), (ROOT / "MODEL_CARD.md", "scores"): render_scores()}


def block(text: str, name: str) -> str | None:
    found = re.search(rf"<!-- {name}: .*? -->\n(.*?)<!-- end {name} -->", text, flags=re.S)
    return found.group(1).strip() if found else None


def prose_figures() -> list[tuple[str, str, float]]:
    """(what, pattern with one number group, the measured value): how the documents restate the
    headline figures in prose. Each pattern must match somewhere, so a rewording that drops a
    figure out of reach of its check fails too."""
    scores = served()
    camvid, dev = scores["camvid_test"], scores["ade20k_dev"]
    return [
        ("CamVid test sky IoU, served", r"model is at (\d\d\.\d+) on CamVid test\b", camvid["sky_iou"]),
        ("ade20k_dev share of photos at >= 90", r"(\d+)% of ade20k_dev at >= 90", dev["photos_at_90_pct"]),
        ("ade20k_dev photos missed", r"(\d+) of (?:the )?50 (?:photos )?are missed", dev["photos_under_50"]),
        ("CamVid test boundary F1, served", r"[Bb]oundary F1 is (0\.\d+) on CamVid", camvid["boundary_f1"]),
        ("Cityscapes held-out sky IoU, served", r"(\d\d\.\d+) on the 20 held-out Cityscapes frames",
         scores["cityscapes_sky_heldout"]["sky_iou"]),
    ]


def same_figure(written: str, measured: float) -> bool:
    """A figure written with d decimals states the measured value rounded to d decimals."""
    decimals = len(written.split(".")[1]) if "." in written else 0
    return float(written) == round(measured, decimals)
