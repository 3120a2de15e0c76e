"""C / B in alternating rounds: the ratio with its spread, not one draw of it.

On this shared 2-core machine B (the network alone) drifts 5-15% between runs, so one
`benchmarks.compare` run puts C / B anywhere within a few points of its true value. Here B (the
repository's own layout: its network instances side by side, one ORT session each) and C (JPEG
over gRPC through the running ensemble) take turns in short rounds against one server, each C
paired with the B just before it, and the verdict is on the median of the rounds' ratios.
B is the network's floor: in each round it runs at every batch of ``--b-batches`` (the server's
network step stacks 2-3 requests per call under C's load) and the fastest counts.

    python -m benchmarks.c_over_b --size 1920x1080 --rounds 6 --seconds 10
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.common.images import DEFAULT_IMAGES, ROOT, parse_size, write_image_sets
from benchmarks.common.load import bench_grpc
from benchmarks.common.machine import machine
from benchmarks.common.onnx_floor import bench_onnx_parallel, network_layout
from benchmarks.common.timing import percent_down

TARGET = 0.8  #: the performance issue's C >= 80% of B


@dataclass
class Round:
    b_images_per_s: float  #: the fastest of ``b_by_batch``
    c_images_per_s: float
    b_by_batch: dict[int, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.c_images_per_s / self.b_images_per_s


def summarize(rounds: list[Round]) -> dict:
    """Median, lowest and highest ratio, and how many rounds met the target on their own."""
    ratios = [r.ratio for r in rounds]
    median = statistics.median(ratios)
    return {"rounds": [asdict(r) | {"ratio": r.ratio} for r in rounds], "median_ratio": median,
            "min_ratio": min(ratios), "max_ratio": max(ratios),
            "rounds_met": sum(r >= TARGET for r in ratios), "met": median >= TARGET}


def report(size: str, summary: dict) -> str:
    batches = sorted({n for r in summary["rounds"] for n in r["b_by_batch"]})
    lines = [f"C / B at {size}, alternating rounds (B: the repository's network layout alone, the fastest of "
             f"batch {', '.join(map(str, batches)) or '1'}; C: JPEG over gRPC through the ensemble)", "",
             "| round | " + "".join(f"B batch {n} | " for n in batches) + "B images/s | C images/s | C / B |",
             "|---:|" + "---:|" * (len(batches) + 3)]
    for i, r in enumerate(summary["rounds"], 1):
        each = "".join(f"{r['b_by_batch'].get(n, 0.0):.2f} | " for n in batches)
        lines.append(f"| {i} | {each}{r['b_images_per_s']:.2f} | {r['c_images_per_s']:.2f} | {percent_down(r['ratio'])} |")
    verdict = "met" if summary["met"] else "NOT met"
    lines += ["", f"median {percent_down(summary['median_ratio'])} (range {percent_down(summary['min_ratio'])}-"
                  f"{percent_down(summary['max_ratio'])}; {summary['rounds_met']} of {len(summary['rounds'])} rounds "
                  f"at 80% or more): target C >= 80% of B {verdict}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=parse_size, default=parse_size("1920x1080"), help="WxH of the JPEGs")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds of B and of C per round")
    p.add_argument("--in-flight", type=int, default=12, help="requests in flight for C (12: the server batches 2-3 per network call)")
    p.add_argument("--b-batches", default="1,2,3", help="batch sizes B runs at in each round; the fastest counts")
    p.add_argument("--images", default=DEFAULT_IMAGES, help="glob of real images (CamVid test by default)")
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--repository", type=Path, default=ROOT / "model_repository")
    p.add_argument("--json", type=Path, help="also write the rounds and the summary here")
    args = p.parse_args(argv)
    from skyseg.serving import TritonServer, free_port
    from skyseg.train.runner import DEFAULT_CONFIG, load_contract

    contract = load_contract(DEFAULT_CONFIG)
    b_batches = [int(n) for n in args.b_batches.split(",")]
    layout = network_layout(args.repository)
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="skyseg-c-over-b-") as tmp:
        inputs, source = write_image_sets(args.images, args.count, [args.size], Path(tmp))
        (size, files), = inputs.items()
        print(f"inputs: {source}; {args.rounds} rounds of {args.seconds:.0f} s of B then C", flush=True)
        with TritonServer(args.repository, http_port=free_port(), grpc_port=free_port(),
                          metrics_port=free_port()) as server:
            for i in range(args.rounds):
                b = {n: bench_onnx_parallel(layout.onnx, contract, files, size, args.seconds, layout.instances,
                                            layout.threads, n).summary()["images_per_s"] for n in b_batches}
                c, _ = bench_grpc(server.grpc_url, files, size, args.seconds, args.in_flight)
                rounds.append(Round(max(b.values()), c.summary()["images_per_s"], b))
                each = ", ".join(f"batch {n} {v:.2f}" for n, v in b.items())
                print(f"round {i + 1}: B {rounds[-1].b_images_per_s:.2f} ({each}), C {rounds[-1].c_images_per_s:.2f} "
                      f"images/s, C / B {percent_down(rounds[-1].ratio)}", flush=True)
    summary = summarize(rounds)
    print(report(size, summary))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"size": size, "inputs": source, "machine": machine(),
                                         "in_flight": args.in_flight, "seconds": args.seconds,
                                         "b_batches": b_batches} | summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
