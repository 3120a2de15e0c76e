"""perf_analyzer against a running skyseg server: real JPEGs, a concurrency sweep, infer/s and p50/p99.

perf_analyzer comes from the ``tritonclient==2.51.0`` wheel (the builds in tritonclient >= 2.52 and
in PyPI ``perf-analyzer`` need glibc 2.38), installed with ``pip --no-deps --target .cache/perf_analyzer``
so that its ``protobuf<5`` pin never touches the project's environment. The binary also needs
``libb64.so.0d`` and ``libcudart.so.12``; both are taken from the system when present, else from the
copies nvidia-pytriton already carries (``nvidia_pytriton.libs``), linked into ``.cache/perf_analyzer/lib``.

    python -m benchmarks.perf_analyzer --url 127.0.0.1:8001 --concurrency 1,2,4,8
    python -m benchmarks.perf_analyzer --resize 1920x1080 --concurrency 1,4
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from benchmarks.common.images import DEFAULT_COUNT, DEFAULT_IMAGES, ROOT, load_images, parse_size
from benchmarks.common.machine import machine
from benchmarks.common.perf_analyzer import (CACHE, PerfAnalyzerError, ensure_perf_analyzer, perf_analyzer_version,
                                             run_sweep)

DEFAULT_PORTS = {"grpc": 8001, "http": 8000}


def table(results: list[dict]) -> str:
    """The sweep as Markdown: infer/s and p50/p90/p99 ms per concurrency level."""
    lines = ["| concurrency | infer/s | p50 ms | p90 ms | p99 ms |", "|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['concurrency']} | {r['infer_per_s']:.2f} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | "
              f"{r['p99_ms']:.1f} |" for r in results]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="host:port (default 127.0.0.1:8001 for grpc, 127.0.0.1:8000 for http)")
    p.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    p.add_argument("--model", default="sky_segmentation")
    p.add_argument("--concurrency", default="1,2,4,8", help="comma-separated levels (default 1,2,4,8)")
    p.add_argument("--images", default=DEFAULT_IMAGES, help="glob or directory of real images "
                   "(default: the CamVid test JPEGs in ../shared/data; synthetic ones if absent)")
    p.add_argument("--count", type=int, default=DEFAULT_COUNT, help="images in the input set (default 16)")
    p.add_argument("--resize", type=parse_size, help="WxH, e.g. 1920x1080 (re-encoded as JPEG quality 90)")
    p.add_argument("--input-name", default="IMAGE")
    p.add_argument("--interval-ms", type=int, default=3000, help="measurement window (>= 2000 advised)")
    p.add_argument("--max-trials", type=int, default=6, help="windows per level before giving up (>= 3)")
    p.add_argument("--stability-percentage", type=float, default=20,
                   help="allowed spread of the last 3 windows, percent (default 20)")
    p.add_argument("--timeout", type=float, help="seconds for the whole sweep (default: from interval and trials)")
    p.add_argument("--extra-args", default="", help="more perf_analyzer options, one shell-quoted string")
    p.add_argument("--output", type=Path, help="JSON results (default benchmarks/results/perf_<model>_<time>.json)")
    p.add_argument("--binary", help="use this perf_analyzer (e.g. NVIDIA's SDK image) instead of installing 2.51")
    p.add_argument("--cache-dir", type=Path, default=CACHE, help=f"install location (default {CACHE})")
    p.add_argument("--install-only", action="store_true", help="install perf_analyzer, print its version, exit")
    args = p.parse_args(argv)
    try:
        binary = args.binary or str(ensure_perf_analyzer(args.cache_dir))
        version = perf_analyzer_version(binary, args.cache_dir)
    except PerfAnalyzerError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.returncode or 1
    if args.install_only:
        print(f"perf_analyzer ready: {binary} ({version}); LD_LIBRARY_PATH += {Path(args.cache_dir) / 'lib'}")
        return 0
    url = args.url or f"127.0.0.1:{DEFAULT_PORTS[args.protocol]}"
    levels = [int(v) for v in args.concurrency.split(",") if v.strip()]
    images, source = load_images(args.images, args.count, args.resize)
    if args.interval_ms < 2000:
        print(f"warning: --interval-ms {args.interval_ms} < 2000 gives few requests per window", file=sys.stderr)
    print(f"perf_analyzer ({version}) -> {args.model} at {args.protocol}://{url}", flush=True)
    print(f"inputs: {source}", flush=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    try:
        results = run_sweep(url, images, args.model, args.protocol, levels, args.interval_ms,
                            shlex.split(args.extra_args), max_trials=args.max_trials,
                            stability_percentage=args.stability_percentage, timeout_s=args.timeout,
                            binary=binary, input_name=args.input_name, cache_dir=args.cache_dir,
                            progress=lambda r: print(f"  concurrency {r['concurrency']}: {r['infer_per_s']:.2f} "
                                                     f"infer/s, p50 {r['p50_ms']:.1f} ms", flush=True))
    except PerfAnalyzerError as e:
        if e.results:
            print("measured before the failure (no JSON written):\n" + table(e.results))
        print(f"error: {e}", file=sys.stderr)
        return e.returncode or 1
    print(table(results))
    out = args.output or ROOT / "benchmarks" / "results" / f"perf_{args.model}_{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"model": args.model, "url": url, "protocol": args.protocol, "started": started, "inputs": source,
              "settings": {"concurrency": levels, "measurement_interval_ms": args.interval_ms,
                           "max_trials": args.max_trials, "stability_percentage": args.stability_percentage,
                           "resize": list(args.resize) if args.resize else None, "extra_args": args.extra_args},
              "machine": dict(machine(), perf_analyzer=version), "results": results}
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
