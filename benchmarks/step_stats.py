"""Where each millisecond goes: Triton's per-model statistics around a load, per request.

    python -m benchmarks.step_stats --url 127.0.0.1:8001 --resize 1920x1080 --concurrency 4

Reads ``get_inference_statistics`` for every step of the ensemble before and after sending real
JPEGs, and prints, per step, the average queue, compute-input, compute-infer and compute-output
time per request and the average batch size the dynamic batcher formed.
"""
from __future__ import annotations

import argparse
import sys

from benchmarks.common.images import DEFAULT_IMAGES, load_images, parse_size
from benchmarks.common.load import run_load
from benchmarks.common.triton_stats import per_request, render, snapshot


def main(argv: list[str] | None = None) -> int:
    import tritonclient.grpc as grpcclient

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="127.0.0.1:8001")
    p.add_argument("--images", default=DEFAULT_IMAGES)
    p.add_argument("--resize", type=parse_size, help="WxH, e.g. 1920x1080")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--seconds", type=float, default=20)
    args = p.parse_args(argv)
    images, source = load_images(args.images, 16, args.resize)
    client = grpcclient.InferenceServerClient(args.url)
    before = snapshot(client)
    load = run_load(args.url, images, args.concurrency, args.seconds)
    table = per_request(before, snapshot(client))
    print(f"{load.ok} requests ({load.ok / args.seconds:.1f}/s), {len(load.errors)} errors, concurrency "
          f"{args.concurrency}, inputs: {source}")
    print(render(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
