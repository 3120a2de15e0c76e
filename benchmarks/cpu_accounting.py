"""Core-milliseconds per request, per process, for C (JPEG over gRPC through the ensemble).

Triton's per-step times are wall times: on two busy cores every step also waits for the CPU, so
they do not say who *uses* it. This reads each process's CPU time (psutil: tritonserver, every
Python stub; getrusage: this client) before and after a load run and divides by the requests
served: the numbers add up to the two cores' wall time, so every millisecond has an owner.

    python -m benchmarks.cpu_accounting --size 1920x1080 --in-flight 4 --seconds 20
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.common import triton_stats
from benchmarks.common.load import add_load_options, load_jpegs, run_load
from benchmarks.common.processes import cpu_seconds, own_cpu_seconds, process_label, process_tree


def account(url: str, server_pid: int, images: list[bytes], in_flight: int, seconds: float) -> dict:
    """Per-process core-ms per request over one load run (after a short warm-up), and the batch
    each step's executions averaged: a Python step's fixed cost per execution is shared by its batch."""
    import tritonclient.grpc as grpcclient

    run_load(url, images, in_flight, min(5.0, seconds))
    processes = process_tree(server_pid)
    stats_client = grpcclient.InferenceServerClient(url)
    stats_before = triton_stats.snapshot(stats_client)
    before = {p.pid: cpu_seconds(p) for p in processes}
    client_before, start = own_cpu_seconds(), time.perf_counter()
    load = run_load(url, images, in_flight, seconds)
    wall = time.perf_counter() - start
    after = {p.pid: cpu_seconds(p) for p in processes}
    steps = triton_stats.per_request(stats_before, triton_stats.snapshot(stats_client))
    stats_client.close()
    if load.errors or not load.ok:
        raise RuntimeError(f"{len(load.errors)} failed requests, first: {load.errors[:1]}")
    rows: dict[str, float] = {}
    for process in processes:
        label = process_label(process)
        rows[label] = rows.get(label, 0.0) + 1000.0 * (after[process.pid] - before[process.pid]) / load.ok
    rows["client (this process)"] = 1000.0 * (own_cpu_seconds() - client_before) / load.ok
    return {"requests": load.ok, "seconds": wall, "images_per_s": load.ok / wall, "in_flight": in_flight,
            "core_ms_per_request": rows, "total_core_ms": sum(rows.values()),
            "avg_batch": {model: round(r["avg_batch"], 2) for model, r in steps.items()},
            "available_core_ms": (os.cpu_count() or 1) * 1000.0 * wall / load.ok}


def render(result: dict, size: str) -> str:
    lines = [f"C at {size}, {result['in_flight']} in flight: {result['images_per_s']:.2f} images/s "
             f"({result['requests']} requests)", "", "| process | core-ms per request |", "|---|---:|"]
    for label, ms in sorted(result["core_ms_per_request"].items(), key=lambda kv: -kv[1]):
        if ms >= 0.005:
            lines.append(f"| {label} | {ms:.2f} |")
    lines.append(f"| **total** (of {result['available_core_ms']:.2f} available) | **{result['total_core_ms']:.2f}** |")
    lines += ["", "Requests per execution: " + ", ".join(f"{m} {b:.2f}" for m, b in result["avg_batch"].items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from skyseg.serving import TritonServer, free_port

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_options(p, in_flight=4, seconds=20.0)
    p.add_argument("--json", type=Path, help="also write the result here")
    args = p.parse_args(argv)
    images, source = load_jpegs(args)
    with TritonServer(args.repository, http_port=free_port(), grpc_port=free_port(),
                      metrics_port=free_port()) as server:
        result = account(server.grpc_url, server.process.pid, images, args.in_flight, args.seconds)
    result["source"] = source
    print(render(result, args.size))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
