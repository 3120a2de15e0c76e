"""What one ``SkySegClient`` gets from ``segment_many`` with N in flight, against N threads that
each keep one request in flight (the C path of ``benchmarks.compare``), on the same server.

``segment_many`` hands results back in input order; if it waited for the oldest request before
sending the next, places would stand idle whenever requests finish out of order. This prints both
throughputs and the client's CPU per image, so the gap (if any) is measured, not assumed.

    python -m benchmarks.client_pipelining --size 1920x1080 --in-flight 8
"""
from __future__ import annotations

import argparse
import sys
import time

from benchmarks.common.load import add_load_options, load_jpegs, run_load
from benchmarks.common.processes import own_cpu_seconds


def segment_many_rate(url: str, images: list[bytes], in_flight: int, seconds: float) -> tuple[float, float]:
    """(images/s, client core-ms per image) of back-to-back ``segment_many`` calls."""
    from skyseg_client import SkySegClient

    with SkySegClient(url, max_in_flight=in_flight) as client:
        done, cpu, start = 0, own_cpu_seconds(), time.perf_counter()
        while time.perf_counter() - start < seconds:
            done += len(client.segment_many(images * 4))
        wall = time.perf_counter() - start
    return done / wall, 1000.0 * (own_cpu_seconds() - cpu) / done


def threads_rate(url: str, images: list[bytes], in_flight: int, seconds: float) -> tuple[float, float]:
    """(images/s, client core-ms per image) of ``in_flight`` threads with one request each."""
    cpu, start = own_cpu_seconds(), time.perf_counter()
    load = run_load(url, images, in_flight, seconds)
    wall = time.perf_counter() - start
    if load.errors:
        raise RuntimeError(f"{len(load.errors)} failed requests, first: {load.errors[0]}")
    return load.ok / wall, 1000.0 * (own_cpu_seconds() - cpu) / load.ok


def main(argv: list[str] | None = None) -> int:
    from skyseg.serving import TritonServer, free_port

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_options(p, in_flight=8, seconds=15.0)
    args = p.parse_args(argv)
    images, source = load_jpegs(args)
    with TritonServer(args.repository, http_port=free_port(), grpc_port=free_port(),
                      metrics_port=free_port()) as server:
        run_load(server.grpc_url, images, args.in_flight, 4.0)  # warm-up
        rows = [(f"segment_many, {args.in_flight} in flight", *segment_many_rate(
                    server.grpc_url, images, args.in_flight, args.seconds)),
                (f"{args.in_flight} threads x 1 request", *threads_rate(
                    server.grpc_url, images, args.in_flight, args.seconds))]
    print(f"{args.size} JPEGs from {source}\n\n| client | images/s | client core-ms per image |\n|---|---:|---:|")
    for label, rate, cpu in rows:
        print(f"| {label} | {rate:.2f} | {cpu:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
