"""perf_analyzer against the running ensemble: real JPEGs, a concurrency sweep, infer/s and p50/p99.

perf_analyzer comes from the ``tritonclient==2.51.0`` wheel (newer builds need glibc 2.38),
installed with ``--no-deps`` into ``.cache/perf_analyzer`` so its ``protobuf<5`` pin cannot clash
with the project's environment. It needs Debian's ``libb64-0d`` and a ``libcudart.so.12``; the
copy inside ``nvidia_pytriton.libs`` is linked rather than downloading CUDA.

    python -m benchmarks.perf_analyzer --url 127.0.0.1:8001 --concurrency 1,2,4,8
"""
from __future__ import annotations

import argparse
import base64
import csv
import glob
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "perf_analyzer"
TRITONCLIENT_WITH_WORKING_BINARY = "tritonclient==2.51.0"
DEFAULT_IMAGES = str(ROOT.parent / "shared" / "data" / "camvid" / "test" / "*.jpg")


def _pytriton_libs() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("pytriton")
    if spec is None or spec.origin is None:
        raise RuntimeError("nvidia-pytriton is not installed; it carries the libcudart perf_analyzer loads")
    return Path(spec.origin).parent.parent / "nvidia_pytriton.libs"


def _ensure_libb64() -> None:
    if "libb64.so.0d" in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout:
        return
    if os.geteuid() != 0:
        raise RuntimeError("perf_analyzer needs libb64.so.0d: run `sudo apt-get install libb64-0d`")
    install = ["apt-get", "install", "-y", "-q", "libb64-0d"]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(install, check=True, capture_output=True)


def ensure_perf_analyzer(cache: Path = CACHE) -> Path:
    """The perf_analyzer binary, installed on first use; also checks its shared libraries."""
    binary = cache / "bin" / "perf_analyzer"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(cache),
                        TRITONCLIENT_WITH_WORKING_BINARY], check=True)
        binary.chmod(0o755)
    _ensure_libb64()
    lib = cache / "lib"
    lib.mkdir(exist_ok=True)
    cudart = lib / "libcudart.so.12"
    if not cudart.exists():
        (source,) = _pytriton_libs().glob("libcudart-*.so.12*")
        cudart.symlink_to(source)
    return binary


def perf_analyzer_env(cache: Path = CACHE) -> dict[str, str]:
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in [str(cache / "lib"), env.get("LD_LIBRARY_PATH", "")] if p)
    return env


def load_images(pattern: str, count: int, resize: tuple[int, int] | None) -> tuple[list[bytes], str]:
    """Real JPEGs (optionally resized to WxH and re-encoded at quality 90), else generated scenes."""
    paths = sorted(glob.glob(pattern))[:count]
    if paths:
        images, source = [cv2.imread(p, cv2.IMREAD_COLOR) for p in paths], f"{len(paths)} images from {pattern}"
    else:
        from skyseg.samples import render_scene

        w, h = resize or (960, 540)
        images, source = [render_scene(w, h, seed=i) for i in range(count)], f"{count} GENERATED scenes ({pattern} absent)"
    if resize is None and paths:
        return [Path(p).read_bytes() for p in paths], source
    encoded = []
    for image in images:
        if resize:
            image = cv2.resize(image, resize, interpolation=cv2.INTER_AREA)
        encoded.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return encoded, source + (f", resized to {resize[0]}x{resize[1]}" if resize else "")


def write_input_json(images: list[bytes], out: Path, input_name: str = "IMAGE") -> Path:
    """``b64`` is the tensor's raw content: for BYTES, each element is a 4-byte LE length + bytes."""
    data = [{input_name: {"b64": base64.b64encode(struct.pack("<I", len(b)) + b).decode(), "shape": [1]}}
            for b in images]
    out.write_text(json.dumps({"data": data}))
    return out


def run_sweep(url: str, images: list[bytes], model: str = "sky_segmentation", protocol: str = "grpc",
              concurrency: list[int] = (1, 2, 4, 8), interval_ms: int = 3000, max_trials: int = 6,
              stability: int = 20, timeout_s: float = 600, binary: str | None = None) -> list[dict]:
    """One perf_analyzer run per concurrency level; returns infer/s and latency percentiles (ms).

    ``binary``: an existing perf_analyzer (e.g. in NVIDIA's SDK image) instead of the 2.51 install.
    """
    binary = binary or str(ensure_perf_analyzer())
    results = []
    with tempfile.TemporaryDirectory(prefix="perf-") as tmp:
        data = write_input_json(images, Path(tmp) / "input.json")
        for level in concurrency:
            report = Path(tmp) / f"c{level}.csv"
            command = [str(binary), "-m", model, "-u", url, "-i", protocol, "--input-data", str(data),
                       "--concurrency-range", f"{level}:{level}", "--measurement-mode", "time_windows",
                       "--measurement-interval", str(interval_ms), "--max-trials", str(max_trials),
                       "--stability-percentage", str(stability), "-f", str(report)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=perf_analyzer_env())
            if done.returncode != 0 or not report.exists():
                raise RuntimeError(f"perf_analyzer failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
            results.append(_parse_csv(report))
    return results


def _parse_csv(path: Path) -> dict:
    with open(path) as f:
        row = next(csv.DictReader(f))
    ms = lambda key: float(row[key]) / 1000.0  # noqa: E731 - perf_analyzer reports microseconds
    return {"concurrency": int(row["Concurrency"]), "infer_per_s": float(row["Inferences/Second"]),
            "p50_ms": ms("p50 latency"), "p90_ms": ms("p90 latency"), "p99_ms": ms("p99 latency")}


def machine() -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "perf_analyzer": "2.51.0"}


def table(results: list[dict]) -> str:
    lines = ["| concurrency | infer/s | p50 ms | p90 ms | p99 ms |", "|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['concurrency']} | {r['infer_per_s']:.2f} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} |"
              for r in results]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="127.0.0.1:8001")
    p.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    p.add_argument("--model", default="sky_segmentation")
    p.add_argument("--concurrency", default="1,2,4,8", help="comma-separated levels")
    p.add_argument("--images", default=DEFAULT_IMAGES, help="glob of real images")
    p.add_argument("--count", type=int, default=16, help="images in the input set")
    p.add_argument("--resize", help="WxH, e.g. 1920x1080 (re-encoded JPEG quality 90)")
    p.add_argument("--interval-ms", type=int, default=3000)
    p.add_argument("--output", type=Path, help="JSON results (default benchmarks/results/perf_<model>_<time>.json)")
    p.add_argument("--install-only", action="store_true", help="install perf_analyzer and exit")
    p.add_argument("--binary", help="use this perf_analyzer (e.g. NVIDIA's SDK image) instead of installing 2.51")
    args = p.parse_args(argv)
    if args.install_only:
        print(f"perf_analyzer ready: {ensure_perf_analyzer()}")
        return 0
    resize = tuple(int(v) for v in args.resize.lower().split("x")) if args.resize else None
    images, source = load_images(args.images, args.count, resize)
    levels = [int(v) for v in args.concurrency.split(",")]
    print(f"perf_analyzer -> {args.model} at {args.protocol}://{args.url}; inputs: {source}", flush=True)
    results = run_sweep(args.url, images, args.model, args.protocol, levels, args.interval_ms, binary=args.binary)
    print(table(results))
    out = args.output or ROOT / "benchmarks" / "results" / f"perf_{args.model}_{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "inputs": source, "url": args.url, "results": results}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
