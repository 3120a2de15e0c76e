"""``skyseg eval``: sky IoU / precision / recall / pixel accuracy through one of three paths."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .runner import DEFAULT_CONFIG

DEFAULT_DATASETS = ["camvid_test"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval", help="evaluate sky masks (PyTorch, ONNX Runtime or the Triton server)")
    path = p.add_mutually_exclusive_group(required=True)
    path.add_argument("--server", metavar="URL", help="the running ensemble, e.g. 127.0.0.1:8001")
    path.add_argument("--onnx", type=Path, help="an ONNX model run in ONNX Runtime")
    path.add_argument("--checkpoint", type=Path, help="a PyTorch checkpoint")
    p.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="training config (offline paths)")
    p.add_argument("--data-root", type=Path, default=Path("data/sky"))
    p.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS,
                   help="converted dataset names (default camvid_test)")
    p.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    p.add_argument("--contact-sheet", type=Path, metavar="DIR",
                   help="write <dataset>_worst.png (image | truth | prediction of the 8 worst images) here")
    p.set_defaults(func=_eval)


def _predictor(args: argparse.Namespace):
    from . import evaluate

    if args.server:
        return f"triton {args.protocol}://{args.server}", evaluate.server_predictor(args.server, args.protocol)
    from skyseg.contract import Contract

    contract = Contract.from_config_file(args.config)
    if args.onnx:
        return f"onnxruntime {args.onnx}", evaluate.onnx_predictor(args.onnx, contract)
    return f"pytorch {args.checkpoint}", evaluate.checkpoint_predictor(args.config, args.checkpoint, contract)


def markdown_table(label: str, results: dict[str, dict[str, float]]) -> str:
    lines = [f"Path: {label}", "", "| dataset | images | sky IoU | sky precision | sky recall (Acc) | pixel acc "
             "| boundary F1 (3 px) | false sky on no-sky images |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        rate = "n/a" if r["false_sky_rate_pct"] is None else f"{r['false_sky_rate_pct']:.2f}% of {r['no_sky_images']}"
        lines.append(f"| {name} | {r['images']} | {r['sky_iou']:.2f} | {r['sky_precision']:.2f} | "
                     f"{r['sky_recall']:.2f} | {r['pixel_accuracy']:.2f} | {r['boundary_f1']:.3f} | {rate} |")
    return "\n".join(lines)


def _eval(args: argparse.Namespace) -> int:
    from .evaluate import dataset_pairs, evaluate

    from .evaluate import contact_sheet

    label, predict = _predictor(args)
    results = {}
    for name in args.datasets:
        worst: list = []
        results[name] = evaluate(predict, dataset_pairs(args.data_root, name), desc=name, worst=worst).as_dict()
        if args.contact_sheet:
            print(f"worst images: {contact_sheet(worst, args.contact_sheet / f'{name}_worst.png')}")
    print(markdown_table(label, results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"path": label, "results": results}, indent=2))
    return 0
