"""Where each millisecond goes: Triton's per-model statistics around a load, per request.

    python -m benchmarks.step_stats --url 127.0.0.1:8001 --resize 1920x1080 --concurrency 4

Reads ``get_inference_statistics`` for every step of the ensemble before and after sending real
JPEGs, and prints, per step, the average queue, compute-input, compute-infer and compute-output
time per request and the average batch size the dynamic batcher formed.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time

STEPS = ("sky_segmentation", "preprocess", "bisenetv2", "postprocess")
PHASES = ("queue", "compute_input", "compute_infer", "compute_output")


def snapshot(client, models=STEPS) -> dict[str, dict[str, int]]:
    out = {}
    for model in models:
        stats = client.get_inference_statistics(model).model_stats[0]
        out[model] = {phase: getattr(stats.inference_stats, phase).ns for phase in PHASES}
        out[model].update(requests=stats.inference_stats.success.count, executions=stats.execution_count,
                          inferences=stats.inference_count)
    return out


def per_request(before: dict, after: dict) -> dict[str, dict[str, float]]:
    table = {}
    for model in after:
        d = {k: after[model][k] - before[model][k] for k in after[model]}
        n = max(d["requests"], 1)
        table[model] = {phase: d[phase] / n / 1e6 for phase in PHASES}
        table[model]["requests"] = d["requests"]
        table[model]["avg_batch"] = d["inferences"] / max(d["executions"], 1)
    return table


def render(table: dict) -> str:
    lines = ["| step | requests | queue ms | compute input ms | compute infer ms | compute output ms | avg batch |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for model, r in table.items():
        lines.append(f"| {model} | {r['requests']} | {r['queue']:.1f} | {r['compute_input']:.1f} | "
                     f"{r['compute_infer']:.1f} | {r['compute_output']:.1f} | {r['avg_batch']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import tritonclient.grpc as grpcclient

    from benchmarks.perf_analyzer import DEFAULT_IMAGES, load_images
    from benchmarks.soak import run_load

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="127.0.0.1:8001")
    p.add_argument("--images", default=DEFAULT_IMAGES)
    p.add_argument("--resize", help="WxH, e.g. 1920x1080")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--seconds", type=float, default=20)
    args = p.parse_args(argv)
    resize = tuple(int(v) for v in args.resize.lower().split("x")) if args.resize else None
    images, source = load_images(args.images, 16, resize)
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
