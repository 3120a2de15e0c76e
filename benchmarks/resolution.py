"""Input resolution vs speed and accuracy: where is the knee?

    python -m benchmarks.resolution --boxes 256x352,288x384,320x448,384x512 [--onnx FILE]

For each input box (H x W the image is fitted into, padded to the size divisor), the same ONNX
model (the served INT8 one unless ``--onnx``), unchanged, is timed in ONNX Runtime on the canvas
a 16:9 frame gets (video and 1080p) and on the canvas a 4:3 CamVid frame gets, and scored on
CamVid test (sky IoU and boundary F1) through the serving ops. The box is a serving setting
(``input_size`` in the training config); the model is the same file at every size.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common.images import ROOT, camvid_test_pairs
from skyseg.assets import DEFAULT_INT8_ONNX


def median_ms(session, x: np.ndarray, runs: int) -> float:
    for _ in range(3):
        session.run(None, {"input": x})
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {"input": x})
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    from skyseg.convert.parity import ort_session
    from skyseg.train import evaluate
    from skyseg.train.runner import DEFAULT_CONFIG, load_contract

    from skyseg import pipeline

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--boxes", default="256x352,288x384,320x448,384x512", help="HxW input boxes")
    p.add_argument("--onnx", type=Path, default=DEFAULT_INT8_ONNX, help="the served INT8 model by default")
    p.add_argument("--runs", type=int, default=30, help="timed calls per canvas (median)")
    p.add_argument("--limit", type=int, help="score only the first N CamVid test images")
    p.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "resolution.json")
    args = p.parse_args(argv)
    base = load_contract(DEFAULT_CONFIG)
    session = ort_session(args.onnx)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pairs = camvid_test_pairs(Path(tmp))
        if pairs is not None:
            pairs = pairs[: args.limit]
        for box in args.boxes.split(","):
            h, w = (int(v) for v in box.lower().split("x"))
            contract = dataclasses.replace(base, input_height=h, input_width=w)
            row = {"box": f"{h}x{w}"}
            for name, (fh, fw) in (("16:9", (1080, 1920)), ("4:3", (360, 480))):
                tensor, _, _ = pipeline.prepare(np.zeros((fh, fw, 3), np.uint8), contract)
                row[f"canvas_{name}"] = "x".join(map(str, tensor.shape[1:]))
                row[f"ms_{name}"] = median_ms(session, tensor[None], args.runs)
            if pairs is not None:
                counts = evaluate.evaluate(evaluate.onnx_predictor(args.onnx, contract), pairs, desc=box)
                row.update(camvid_sky_iou=100 * counts.iou, camvid_boundary_f1=counts.boundary_f1)
            rows.append(row)
            print(row, flush=True)
    print(f"ONNX Runtime, {args.onnx.name}, median of {args.runs} calls, batch 1, this machine's default threads")
    print("| input box | 16:9 canvas | ms (16:9) | images/s (16:9) | 4:3 canvas | ms (4:3) | CamVid-test sky IoU | boundary F1 |")
    print("|---|---|---:|---:|---|---:|---:|---:|")
    for r in rows:
        iou = f"{r['camvid_sky_iou']:.2f}" if "camvid_sky_iou" in r else "n/a"
        bf1 = f"{r['camvid_boundary_f1']:.3f}" if "camvid_boundary_f1" in r else "n/a"
        print(f"| {r['box']} | {r['canvas_16:9']} | {r['ms_16:9']:.1f} | {1000 / r['ms_16:9']:.1f} | {r['canvas_4:3']} | "
              f"{r['ms_4:3']:.1f} | {iou} | {bf1} |")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"onnx": args.onnx.name, "runs": args.runs, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
