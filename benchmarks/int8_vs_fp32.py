"""FP32 vs INT8 ONNX in ONNX Runtime on this CPU: speed and CamVid-test sky IoU in one run.

    python -m benchmarks.int8_vs_fp32 [--runs 40] [--threads 2]

Speed: median latency of one 384x512 image per call (the served input). The models are timed in
alternating blocks of 10 calls, so background drift hits both while neither session's spinning
thread pool runs during the other's calls. Accuracy: the 233 CamVid test images through the
serving letterbox and mask ops (converted from ../shared/data on the fly).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common.images import CAMVID, ROOT, camvid_test_pairs
from skyseg.assets import DEFAULT_INT8_ONNX, DEFAULT_ONNX


def median_latencies(paths: dict[str, Path], threads: int, runs: int) -> dict[str, float]:
    from skyseg.convert.parity import ort_session

    sessions = {name: ort_session(path, threads) for name, path in paths.items()}
    x = np.random.default_rng(0).normal(size=(1, 3, 384, 512)).astype(np.float32)
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for session in sessions.values():
        for _ in range(3):
            session.run(None, {"input": x})
    for _ in range(max(1, runs // 10)):
        for name, session in sessions.items():
            session.run(None, {"input": x})  # untimed: lets the other pool go idle
            for _ in range(10):
                start = time.perf_counter()
                session.run(None, {"input": x})
                times[name].append(time.perf_counter() - start)
    return {name: 1000 * float(np.median(t)) for name, t in times.items()}


def camvid_iou(paths: dict[str, Path], threads: int) -> dict[str, float] | None:
    """CamVid-test sky IoU (percent) of each model through the serving ops; None without the data."""
    from skyseg.train import evaluate
    from skyseg.train.runner import DEFAULT_CONFIG, load_contract

    contract = load_contract(DEFAULT_CONFIG)
    with tempfile.TemporaryDirectory() as tmp:
        pairs = camvid_test_pairs(Path(tmp))
        if pairs is None:
            return None
        return {name: 100 * evaluate.evaluate(evaluate.onnx_predictor(path, contract, threads), pairs, desc=name).iou
                for name, path in paths.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fp32", type=Path, default=DEFAULT_ONNX)
    p.add_argument("--int8", type=Path, default=DEFAULT_INT8_ONNX)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "int8_vs_fp32.json")
    args = p.parse_args(argv)
    paths = {"fp32": args.fp32, "int8": args.int8}
    latency = median_latencies(paths, args.threads, args.runs)
    iou = camvid_iou(paths, args.threads)
    speedup = latency["fp32"] / latency["int8"]
    print(f"ONNX Runtime, {args.threads} threads, batch 1 at 384x512, median of {args.runs}")
    print("| model | ms / image | images/s | CamVid-test sky IoU |\n|---|---:|---:|---:|")
    for name in paths:
        print(f"| {name} | {latency[name]:.1f} | {1000 / latency[name]:.1f} | "
              f"{'n/a' if iou is None else f'{iou[name]:.2f}'} |")
    print(f"speed-up INT8 vs FP32: x{speedup:.2f} (target >= 1.5)")
    if iou is not None:
        print(f"IoU change INT8 - FP32: {iou['int8'] - iou['fp32']:+.2f} (target within 0.5)")
    else:
        print(f"IoU not measured: {CAMVID} is absent")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"threads": args.threads, "runs": args.runs, "latency_ms": latency,
                                       "camvid_test_sky_iou": iou, "speedup": speedup}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
