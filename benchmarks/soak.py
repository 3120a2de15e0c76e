"""Soak: constant load on the CPU server for a fixed time; errors, p99 and memory growth per process.

    python -m benchmarks.soak --duration 300 --concurrency 8

Starts its own tritonserver on loopback, sends real JPEGs from ``../shared/data`` (generated
scenes otherwise) from ``--concurrency`` client threads, and reads the resident memory of
tritonserver and of every Python-backend stub process after a warm-up and at the end. Stops by
itself.

The warm-up runs at twice the concurrency so the dynamic batcher forms full batches: the Python
backend's shared-memory region grows to its high-water mark (max_batch_size tensors in flight)
the first time that happens, a one-off step of ~20 MB in tritonserver and preprocess that a
short warm-up would otherwise count as growth.
"""
from __future__ import annotations

import argparse
import glob
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IMAGES = str(ROOT.parent / "shared" / "data" / "camvid" / "test" / "*.jpg")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def process_tree(root: int) -> dict[int, str]:
    """pid -> name for ``root`` and all its descendants (the Python stubs are children)."""
    parents: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        pid, rest = int(text.split(" ", 1)[0]), text[text.rindex(")") + 2:]
        parents.setdefault(int(rest.split()[1]), []).append(pid)
        names[pid] = text[text.index("(") + 1:text.rindex(")")]
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        tree[pid] = names.get(pid, "?")
        todo.extend(parents.get(pid, []))
    return tree


def process_label(pid: int) -> str:
    """A Python stub by the model it serves (named on its command line), any other process by its binary."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    model = next((a.decode().split("/")[-3] for a in args if a.endswith(b"model.py")), None)
    return model or Path(args[0].decode()).name


def memory(root: int) -> dict[str, int]:
    return {f"{process_label(pid)} ({pid})": rss_kib(pid) for pid in process_tree(root)}


@dataclass
class Load:
    ok: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_load(url: str, images: list[bytes], concurrency: int, seconds: float) -> Load:
    """``concurrency`` threads each keeping one request in flight through one shared client.

    One client (one gRPC channel) for all threads, as tritonclient advises: a client per thread
    cost 1.5-1.75 core-ms per 1080p request on the 2 cores the server shares, one shared 1.25-1.3
    (2026-11-25, RESULTS.md item 7).
    """
    from skyseg_client import SkySegClient, SkySegError

    load, stop = Load(), time.monotonic() + seconds
    client = SkySegClient(url, max_in_flight=concurrency)

    def worker(offset: int) -> None:
        i = offset
        while time.monotonic() < stop:
            start = time.perf_counter()
            try:
                client.segment(images[i % len(images)])
                with load.lock:
                    load.ok += 1
                    load.latencies.append(time.perf_counter() - start)
            except SkySegError as exc:
                with load.lock:
                    load.errors.append(str(exc))
            i += concurrency

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    with client:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return load


def soak(url: str, server_pid: int, images: list[bytes], concurrency: int, seconds: float,
         warmup_s: float = 30.0) -> dict:
    run_load(url, images, 2 * concurrency, warmup_s)  # full batches: shared memory at its high-water mark
    before = memory(server_pid)
    load = run_load(url, images, concurrency, seconds)
    after = memory(server_pid)
    growth = {k: 100.0 * (after.get(k, 0) - v) / max(v, 1) for k, v in before.items()}
    return {"seconds": seconds, "concurrency": concurrency, "requests_ok": load.ok, "errors": len(load.errors),
            "first_errors": load.errors[:5], "throughput": load.ok / seconds,
            "p50_ms": 1000 * float(np.percentile(load.latencies, 50)) if load.latencies else None,
            "p99_ms": 1000 * float(np.percentile(load.latencies, 99)) if load.latencies else None,
            "rss_kib_start": before, "rss_kib_end": after, "rss_growth_pct": growth,
            "total_rss_growth_pct": 100.0 * (sum(after.values()) - sum(before.values())) / max(sum(before.values()), 1)}


def report(result: dict) -> str:
    lines = [f"{result['requests_ok']} requests in {result['seconds']:.0f} s at concurrency {result['concurrency']} "
             f"({result['throughput']:.1f}/s), errors {result['errors']}, p50 {result['p50_ms']:.0f} ms, "
             f"p99 {result['p99_ms']:.0f} ms", "", "| process | RSS start MiB | RSS end MiB | growth |", "|---|---:|---:|---:|"]
    for name, start in result["rss_kib_start"].items():
        end = result["rss_kib_end"].get(name, 0)
        lines.append(f"| {name} | {start / 1024:.1f} | {end / 1024:.1f} | {result['rss_growth_pct'][name]:+.1f}% |")
    lines.append(f"| all | | | {result['total_rss_growth_pct']:+.1f}% |")
    return "\n".join(lines)


def load_images(pattern: str, count: int = 32) -> tuple[list[bytes], str]:
    paths = sorted(glob.glob(pattern))[:count]
    if paths:
        return [Path(p).read_bytes() for p in paths], f"{len(paths)} JPEGs from {pattern}"
    import cv2

    from skyseg.samples import render_scene

    return ([cv2.imencode(".jpg", render_scene(480, 360, seed=i))[1].tobytes() for i in range(count)],
            f"{count} GENERATED scenes ({pattern} absent)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=300.0, help="seconds of measured load")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--images", default=DEFAULT_IMAGES)
    p.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "soak.json")
    args = p.parse_args(argv)
    from skyseg.serving import TritonServer, free_port

    images, source = load_images(args.images)
    print(f"soak: {args.duration:.0f} s at concurrency {args.concurrency}; inputs: {source}", flush=True)
    with TritonServer(http_port=free_port(), grpc_port=free_port(), metrics_port=free_port()) as server:
        result = soak(server.grpc_url, server.process.pid, images, args.concurrency, args.duration)
        result["server_ready_after"] = server.is_ready()
    print(report(result))
    worst = max(result["rss_growth_pct"].values())
    verdict = result["errors"] == 0 and worst < 10 and result["server_ready_after"]
    print(f"{'PASS' if verdict else 'FAIL'}: errors {result['errors']} (must be 0), largest RSS growth of any "
          f"process {worst:+.1f}% (must be < 10%), server ready after: {result['server_ready_after']}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
