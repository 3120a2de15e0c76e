"""The served network alone on a GPU, in PyTorch: latency and throughput per batch, FP32 and FP16.

    python -m benchmarks.gpu_network [--checkpoint PTH] [--config CFG] [--batches 1 8 32]

What a lent GPU machine can show (it has PyTorch, but neither TensorRT nor ONNX Runtime's CUDA
provider, and onnxruntime-gpu is too large to carry): the network's cost on the GPU, a floor under
the ensemble's, and the figure a TensorRT FP16 plan should beat. The network is the one `skyseg
export` writes to ONNX (skyseg.convert.network.LogitsNet), timed with inputs already on the device,
in FP32 and in FP16 (weights and activations in half precision, as a TensorRT FP16 plan runs it),
both in channels-last layout. Prints one JSON line per row; `--json` writes them all.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "train" / "weights" / "bisenetv2_sky_384x512.pth"


def measure(net, batches: list[int], runs: int, dtype, size: tuple[int, int]) -> list[dict]:
    import torch

    rows = []
    net = net.to("cuda", dtype).to(memory_format=torch.channels_last).eval()
    for batch in batches:
        x = torch.randn(batch, 3, *size, device="cuda", dtype=dtype).to(memory_format=torch.channels_last)
        times = []
        with torch.inference_mode():
            for _ in range(10):
                net(x)
            torch.cuda.synchronize()
            for _ in range(runs):
                start = time.perf_counter()
                net(x)
                torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
        median = float(np.median(times))
        rows.append({"gpu": torch.cuda.get_device_name(), "dtype": str(dtype).removeprefix("torch."),
                     "batch": batch, "median_ms": round(median * 1e3, 3),
                     "p95_ms": round(float(np.percentile(times, 95)) * 1e3, 3), "images_per_s": round(batch / median, 1)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    import torch

    from skyseg.convert.network import build_network
    from skyseg.train.runner import DEFAULT_CONFIG, load_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this benchmark times the network on a GPU")
    torch.backends.cudnn.benchmark = True
    size = tuple(load_config(args.config).input_size)  # what the contract reads
    net = build_network(args.config, args.checkpoint)
    rows = [row for dtype in (torch.float32, torch.float16) for row in measure(net, args.batches, args.runs, dtype, size)]
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
