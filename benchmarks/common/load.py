"""The client load the server benchmarks put on a running server: N requests kept in flight for a
fixed time (closed loop), every answer, failure and latency counted; and the options that size it."""
from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.common import triton_stats
from benchmarks.common.images import DEFAULT_IMAGES, ROOT, load_images, parse_size
from benchmarks.common.timing import Timing


@dataclass(frozen=True)
class Upload:
    """One request of a load, with the name a failure is reported under."""

    label: str
    payload: bytes | np.ndarray  # JPEG bytes, or a decoded BGR frame for the shared-memory path


@dataclass
class Load:
    """What a load run got back: answers, failures (``label: error``), each answer's latency in s."""

    ok: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, upload: Upload, outcome: object, seconds: float) -> None:
        """Count one outcome (a mask, or the exception it raised) from any client thread."""
        with self.lock:
            self.count(upload, outcome, seconds)

    def count(self, upload: Upload, outcome: object, seconds: float) -> None:
        """Called under the lock; a subclass judges outcomes its own way (the soak expects refusals)."""
        if isinstance(outcome, Exception):
            self.errors.append(f"{upload.label}: {outcome}")
        else:
            self.ok += 1
            self.latencies.append(seconds)


def run_load(url: str, uploads: Sequence[Upload | bytes | np.ndarray], concurrency: int, seconds: float,
             shared_memory: bool = False, load: Load | None = None) -> Load:
    """``concurrency`` threads each keeping one request in flight through one shared client, cycling
    through ``uploads``, for ``seconds``; the outcomes are counted into ``load`` (a fresh Load if None).

    One client (one gRPC channel) for all threads, as tritonclient advises: a client per thread
    cost 1.5-1.75 core-ms per 1080p request on the 2 cores the server shares, one shared 1.25-1.3
    (2026-11-25, RESULTS.md item 7).
    """
    from skyseg_client import SkySegClient, SkySegError

    schedule = [u if isinstance(u, Upload) else Upload(f"image {n}", u) for n, u in enumerate(uploads)]
    load = Load() if load is None else load
    stop = time.monotonic() + seconds
    client = SkySegClient(url, max_in_flight=concurrency, shared_memory=shared_memory)

    def worker(offset: int) -> None:
        i = offset
        while time.monotonic() < stop:
            upload = schedule[i % len(schedule)]
            start = time.perf_counter()
            try:
                outcome: object = client.segment(upload.payload)
            except SkySegError as exc:
                outcome = exc
            except Exception as exc:  # noqa: BLE001 - the client's contract is SkySegError: count it, not kill the thread
                outcome = RuntimeError(f"unexpected {type(exc).__name__} from the client: {exc}")
            load.record(upload, outcome, time.perf_counter() - start)
            i += concurrency

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    with client:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return load


def add_load_options(p: argparse.ArgumentParser, in_flight: int, seconds: float) -> None:
    """The options the server-load scripts share: which JPEGs, at which size, how hard, how long."""
    p.add_argument("--size", default="1920x1080", help="WxH the JPEGs are resized to")
    p.add_argument("--images", default=DEFAULT_IMAGES)
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--in-flight", type=int, default=in_flight)
    p.add_argument("--seconds", type=float, default=seconds)
    p.add_argument("--repository", type=Path, default=ROOT / "model_repository")


def load_jpegs(args: argparse.Namespace) -> tuple[list[bytes], str]:
    """(JPEG bytes of ``--count`` images resized to ``--size``, where they came from)."""
    return load_images(args.images, args.count, parse_size(args.size))


def bench_grpc(url: str, files: Sequence[Path], size: str, seconds: float, in_flight: int) -> tuple[Timing, dict]:
    """C: these JPEGs through the running ensemble with ``in_flight`` requests, and Triton's per-step
    statistics over the same seconds; a failed request fails the measurement."""
    import tritonclient.grpc as grpcclient

    images = [f.read_bytes() for f in files]
    run_load(url, images, in_flight, min(3.0, seconds))  # warm-up
    client = grpcclient.InferenceServerClient(url)
    before = triton_stats.snapshot(client)
    start = time.perf_counter()
    load = run_load(url, images, in_flight, seconds)
    wall = time.perf_counter() - start
    steps = triton_stats.per_request(before, triton_stats.snapshot(client))
    if load.errors:
        raise RuntimeError(f"C: {len(load.errors)} failed requests, first: {load.errors[0]}")
    return Timing("C", size, [1000 * t for t in load.latencies], wall, note=f"{in_flight} in flight"), steps
