"""``skyseg eval``: sky metrics through the PyTorch checkpoint, ONNX Runtime and/or the running server.

Given several paths, it evaluates each on the same images and shows how far they disagree (the
conversion and the server must not move the score: at most ``MAX_PATH_GAP`` IoU points).
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from .runner import DEFAULT_CONFIG, load_contract

DEFAULT_DATASETS = ["camvid_test"]
MAX_PATH_GAP = 0.2  #: sky IoU points between any two paths on the same dataset
ORACLE = "perfect-network-at-stride"  #: the --oracle path's label: a ceiling, not a path to agree with
ORACLE_BAND = "perfect-band"  #: the --oracle-band path's label: likewise


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval", help="evaluate sky masks (PyTorch, ONNX Runtime or the Triton server)")
    path = p.add_argument_group("paths (one or more; several are compared with each other)")
    path.add_argument("--server", metavar="URL", help="the running ensemble, e.g. 127.0.0.1:8001")
    path.add_argument("--onnx", type=Path, help="an ONNX model run in ONNX Runtime")
    path.add_argument("--checkpoint", type=Path, help="a PyTorch checkpoint")
    path.add_argument("--oracle", type=int, metavar="STRIDE",
                      help="a perfect network at this output stride (8 for BiSeNetV2) through the served "
                           "post-processing: its ceiling; not compared with the other paths")
    path.add_argument("--oracle-band", choices=["label", "fraction"],
                      help="with --onnx: that network, with the learned step's uncertain band set to the "
                           "labels (a perfect band classifier) or to each pixel's true sky fraction (the "
                           "ceiling of any band probability); not compared with the other paths")
    p.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    p.add_argument("--flip", action="store_true",
                   help="offline paths: average the logits with the mirrored image's (test-time "
                        "augmentation, twice the compute; measured, not served: EXPERIMENTS.md R5)")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="training config (offline paths)")
    p.add_argument("--data-root", type=Path, default=Path("data/sky"))
    p.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS,
                   help="converted dataset names (default camvid_test)")
    p.add_argument("--json", type=Path, help="also write the numbers as JSON here (with per-image counts)")
    p.add_argument("--against", type=Path, metavar="JSON",
                   help="an earlier run's --json: print each path's sky IoU difference from it on the shared "
                        "datasets, with a paired bootstrap interval over the images (is a change more than noise?)")
    p.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    p.add_argument("--contact-sheet", type=Path, metavar="DIR",
                   help="write <dataset>_worst.png (image | truth | prediction of the 8 worst images) here")
    p.set_defaults(func=_eval)

    p = subparsers.add_parser("fit-refine", help="fit the learned refinement's weights on the training splits")
    p.add_argument("--onnx", type=Path, required=True, help="the network whose logits the server refines")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="training config (its sky_refine)")
    p.add_argument("--data-root", type=Path, default=Path("data/sky"))
    p.add_argument("--datasets", nargs="+", default=["camvid_train", "cityscapes_sky", "ade20k_sky"],
                   help="training splits only: the held-out ones judge the result")
    p.add_argument("--per-image", type=int, default=3000, help="band pixels sampled per image")
    p.add_argument("--cascade", type=Path, metavar="JSON",
                   help="also fit R16's cascade MLP on the band pixels the fitted weights are least sure of, "
                        "and write it here (for sky_refine.cascade)")
    p.set_defaults(func=_fit_refine)


def _predictors(args: argparse.Namespace) -> list:
    """(label, predictor) for every path asked for, offline ones first."""
    from . import evaluate

    out = []
    if args.checkpoint or args.onnx or args.oracle:

        contract = load_contract(args.config)
        if args.checkpoint:
            out.append((f"pytorch {args.checkpoint}{' +flip' if args.flip else ''}",
                        evaluate.checkpoint_predictor(args.config, args.checkpoint, contract, flip=args.flip)))
        if args.onnx:
            out.append((f"onnxruntime {args.onnx}{' +flip' if args.flip else ''}",
                        evaluate.onnx_predictor(args.onnx, contract, flip=args.flip)))
    if args.oracle:
        out.append((f"{ORACLE} {args.oracle}", evaluate.oracle_predictor(contract, args.oracle)))
    if args.oracle_band:
        if not args.onnx:
            raise SystemExit("--oracle-band needs --onnx (the network whose band is set to the labels)")
        out.append((f"{ORACLE_BAND} {args.oracle_band} {args.onnx}",
                    evaluate.band_oracle_predictor(args.onnx, contract, fraction=args.oracle_band == "fraction")))
    if args.server:
        out.append((f"triton {args.protocol}://{args.server}", evaluate.server_predictor(args.server, args.protocol)))
    return out


def agreement_table(by_path: dict[str, dict[str, dict]]) -> tuple[str, float]:
    """Sky IoU of every path per dataset and the largest gap between two of them."""
    labels = list(by_path)
    lines = ["| dataset | " + " | ".join(labels) + " | largest gap |", "|---|" + "---:|" * (len(labels) + 1)]
    worst = 0.0
    for name in next(iter(by_path.values())):
        ious = [by_path[label][name]["sky_iou"] for label in labels]
        gap = max(ious) - min(ious)
        worst = max(worst, gap)
        lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in ious) + f" | {gap:.2f} |")
    return "\n".join(lines), worst


def markdown_table(label: str, results: dict[str, dict[str, float]]) -> str:
    lines = [f"Path: {label}", "", "| dataset | images (with sky) | sky IoU | 95% interval (images resampled) "
             "| sky precision | sky recall (Acc) | pixel acc "
             "| boundary F1 (3 px) | errors within 3 px of the true boundary | false sky on no-sky images "
             "| photos with sky (>= 1%) | mean per-photo IoU | photos >= 90 | photos < 50 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        rate = "n/a" if r["false_sky_rate_pct"] is None else f"{r['false_sky_rate_pct']:.2f}% of {r['no_sky_images']}"
        low, high = r["sky_iou_ci95"]
        lines.append(f"| {name} | {r['images']} ({r['sky_images']}) | {r['sky_iou']:.2f} | {low:.2f}-{high:.2f} | "
                     f"{r['sky_precision']:.2f} | "
                     f"{r['sky_recall']:.2f} | {r['pixel_accuracy']:.2f} | {r['boundary_f1']:.3f} | "
                     f"{r['errors_near_boundary_pct']:.1f}% | {rate} | {_photo_columns(r)} |")
    return "\n".join(lines)


def _photo_columns(r: dict) -> str:
    """The per-photo figures; n/a where no image holds >= 1% sky."""
    if r["mean_photo_iou"] is None:
        return f"{r['sky_photos']} | n/a | n/a | n/a"
    return f"{r['sky_photos']} | {r['mean_photo_iou']:.1f} | {r['photos_at_90_pct']:.0f}% | {r['photos_under_50']}"


def read_results(path: Path) -> tuple[str, dict[str, dict]]:
    """(path label, results by dataset) of a ``skyseg eval --json`` file: its first path when it holds several."""
    payload = json.loads(Path(path).read_text())
    if "paths" in payload:
        label, results = next(iter(payload["paths"].items()))
        return label, results
    return payload["path"], payload["results"]


def against_table(by_path: dict[str, dict[str, dict]], baseline_file: Path) -> str:
    """Each path's sky IoU minus the baseline's on the datasets both hold, with a paired interval."""
    from .metrics import paired_iou_difference

    base_label, baseline = read_results(baseline_file)
    lines = [f"Sky IoU against {baseline_file} ({base_label}): paired bootstrap over the same images, 95%", "",
             "| path | dataset | sky IoU | baseline | difference | 95% interval | |", "|---|---|---:|---:|---:|---:|---|"]
    for label, results in by_path.items():
        for name, r in results.items():
            b = baseline.get(name)
            named = b.get("per_image") if b else None  # None from a run without per-image counts
            if not isinstance(named, dict) or set(named) != set(r["per_image"]):
                lines.append(f"| {label} | {name} | {r['sky_iou']:.2f} | | | | not in the baseline with the same images |")
                continue
            images = sorted(r["per_image"])
            diff, low, high = paired_iou_difference([r["per_image"][i] for i in images],
                                                    [b["per_image"][i] for i in images])
            verdict = "within noise" if low <= 0 <= high else ("better" if low > 0 else "worse")
            lines.append(f"| {label} | {name} | {r['sky_iou']:.2f} | {b['sky_iou']:.2f} | {100 * diff:+.2f} | "
                         f"{100 * low:+.2f} to {100 * high:+.2f} | {verdict} |")
    return "\n".join(lines)


def _one_image_per_line(text: str) -> str:
    """Indented JSON with each image's (tp, fp, fn) on one line instead of five."""
    return re.sub(r"\[\s+(\d+),\s+(\d+),\s+(\d+)\s+\]", r"[\1, \2, \3]", text)


def _eval(args: argparse.Namespace) -> int:
    from .evaluate import contact_sheet, dataset_pairs, evaluate

    predictors = _predictors(args)
    if not predictors:
        raise SystemExit("skyseg eval: give at least one of --server, --onnx, --checkpoint, --oracle")
    by_path: dict[str, dict[str, dict]] = {}
    tables = []
    for label, predict in predictors:
        results = by_path[label] = {}
        for name in args.datasets:
            worst: list = []
            results[name] = evaluate(predict, dataset_pairs(args.data_root, name), desc=name, worst=worst).as_dict()
            if args.contact_sheet:
                sheet = args.contact_sheet / f"{name}_worst.png" if len(predictors) == 1 else \
                    args.contact_sheet / f"{label.split()[0]}_{name}_worst.png"
                print(f"worst images: {contact_sheet(worst, sheet)}")
        tables.append(markdown_table(label, results))
    status = 0
    compared = {label: r for label, r in by_path.items() if not label.startswith((ORACLE, ORACLE_BAND))}
    if len(compared) > 1:
        table, gap = agreement_table(compared)
        verdict = "agree" if gap <= MAX_PATH_GAP else "DISAGREE"
        tables.append(f"Sky IoU by path: the paths {verdict} (largest gap {gap:.2f}, limit {MAX_PATH_GAP})\n\n{table}")
        status = 0 if gap <= MAX_PATH_GAP else 1
    if args.against:
        tables.append(against_table(by_path, args.against))
    text = "\n\n".join(tables)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text + "\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        single = len(by_path) == 1
        payload = {"path": next(iter(by_path)), "results": next(iter(by_path.values()))} if single else \
            {"paths": by_path}
        args.json.write_text(_one_image_per_line(json.dumps(payload, indent=2)))
    return status


def _fit_refine(args: argparse.Namespace) -> int:
    from skyseg.convert.parity import ort_session

    from .evaluate import dataset_pairs
    from .refine_fit import band_samples, config_line, fit_cascade, fit_logistic, write_cascade

    contract = load_contract(args.config)
    session = ort_session(args.onnx)
    name = session.get_inputs()[0].name
    pairs = [pair for dataset in args.datasets for pair in dataset_pairs(args.data_root, dataset)]
    x, y = band_samples(lambda t: session.run(None, {name: t})[0], contract, pairs, args.per_image)
    weights = fit_logistic(x, y)
    print(f"{len(y)} band pixels from {len(pairs)} images ({100 * y.mean():.1f}% sky); in sky_refine:")
    print(f"    {config_line(weights)}")
    if args.cascade:
        x, y = band_samples(lambda t: session.run(None, {name: t})[0], contract, pairs, args.per_image,
                            learned=tuple(round(float(w), 4) for w in weights))  # as pasted
        path = write_cascade(args.cascade, fit_cascade(x, y), network=str(args.onnx), datasets=list(args.datasets),
                             pixels=int(len(y)))
        print(f"cascade fitted on {len(y)} pixels ({100 * y.mean():.1f}% sky); in sky_refine: cascade='{path}'")
    return 0
