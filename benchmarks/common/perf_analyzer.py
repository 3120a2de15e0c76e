"""perf_analyzer, the C++ load generator of Triton's client SDK: its install, and one concurrency sweep.

perf_analyzer comes from the ``tritonclient==2.51.0`` wheel (the builds in tritonclient >= 2.52 and
in PyPI ``perf-analyzer`` need glibc 2.38), installed with ``pip --no-deps --target .cache/perf_analyzer``
so that its ``protobuf<5`` pin never touches the project's environment. The binary also needs
``libb64.so.0d`` and ``libcudart.so.12``; both are taken from the system when present, else from the
copies nvidia-pytriton already carries (``nvidia_pytriton.libs``), linked into ``.cache/perf_analyzer/lib``.
"""
from __future__ import annotations

import base64
import csv
import importlib.util
import json
import os
import shlex
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from benchmarks.common.images import DEFAULT_COUNT, DEFAULT_IMAGES, ROOT, image_bytes, load_images

CACHE = ROOT / ".cache" / "perf_analyzer"
TRITONCLIENT_WITH_WORKING_BINARY = "tritonclient==2.51.0"
CUDART_WHEEL = "nvidia-cuda-runtime-cu12"


class PerfAnalyzerError(RuntimeError):
    """perf_analyzer failed or timed out; ``stderr`` is its own message, ``results`` the levels already done."""

    def __init__(self, message: str, returncode: int = 1, stdout: str = "", stderr: str = "",
                 results: list[dict] | None = None):
        super().__init__(message)
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.results = results or []


# --------------------------------------------------------------------------- installation


def _ldconfig_has(soname: str) -> bool:
    """Whether the system's loader already finds ``soname`` (then nothing is linked)."""
    try:
        listing = subprocess.run(["ldconfig", "-p"], check=False, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(line.strip().startswith(soname + " ") for line in listing.splitlines())


def _pytriton_libs() -> Path | None:
    """``site-packages/nvidia_pytriton.libs`` of the installed nvidia-pytriton (auditwheel-renamed libraries)."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        return None
    libs = Path(next(iter(spec.submodule_search_locations))).parent / "nvidia_pytriton.libs"
    return libs if libs.is_dir() else None


def _bundled(pattern: str) -> Path | None:
    """nvidia-pytriton's copy of a library, if it carries one."""
    libs = _pytriton_libs()
    found = sorted(libs.glob(pattern)) if libs else []
    return found[0] if found else None


def _link(lib_dir: Path, soname: str, target: Path) -> None:
    """``lib_dir/soname`` -> ``target``, replacing a stale link."""
    link = lib_dir / soname
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def _pip_target(target: Path, *requirements: str) -> None:
    """pip install into ``target`` without dependencies: nothing reaches the project's environment."""
    command = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
               "--upgrade", "--target", str(target), *requirements]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise PerfAnalyzerError(f"`{shlex.join(command)}` failed:\n{done.stdout}{done.stderr}", done.returncode,
                                done.stdout, done.stderr)


def _ensure_libb64(lib_dir: Path) -> None:
    """System libb64.so.0d; else nvidia-pytriton's copy; else ``apt-get install libb64-0d`` as root."""
    if (lib_dir / "libb64.so.0d").exists() or _ldconfig_has("libb64.so.0d"):
        return
    bundled = _bundled("libb64*.so.0d*")
    if bundled:
        _link(lib_dir, "libb64.so.0d", bundled)
        return
    if os.geteuid() != 0:
        raise PerfAnalyzerError("perf_analyzer needs libb64.so.0d, which is not installed: run "
                                "`sudo apt-get install -y libb64-0d` (Debian/Ubuntu package libb64-0d) and retry")
    install = ["apt-get", "install", "-y", "-q", "libb64-0d"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(install, check=False, capture_output=True, env=env, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True, env=env, timeout=600)
        done = subprocess.run(install, check=False, capture_output=True, text=True, env=env, timeout=600)
        if done.returncode != 0:
            raise PerfAnalyzerError(f"`apt-get install -y libb64-0d` failed:\n{done.stdout}{done.stderr}",
                                    done.returncode, done.stdout, done.stderr)


def _ensure_cudart(cache_dir: Path, lib_dir: Path) -> None:
    """System libcudart.so.12; else nvidia-pytriton's copy; else the ``nvidia-cuda-runtime-cu12`` wheel."""
    if (lib_dir / "libcudart.so.12").exists() or _ldconfig_has("libcudart.so.12"):
        return
    bundled = _bundled("libcudart*.so.12*")
    if bundled is None:
        wheel = sorted(cache_dir.glob("nvidia/cuda_runtime/lib/libcudart.so.12*"))
        if not wheel:
            _pip_target(cache_dir, CUDART_WHEEL)
            wheel = sorted(cache_dir.glob("nvidia/cuda_runtime/lib/libcudart.so.12*"))
        if not wheel:
            raise PerfAnalyzerError(f"{CUDART_WHEEL} installed into {cache_dir} but holds no libcudart.so.12")
        bundled = wheel[0]
    _link(lib_dir, "libcudart.so.12", bundled)


def perf_analyzer_env(cache_dir: Path = CACHE, base: dict | None = None) -> dict[str, str]:
    """The environment to run perf_analyzer in: ``cache_dir/lib`` first on LD_LIBRARY_PATH."""
    env = dict(os.environ if base is None else base)
    paths = [str(Path(cache_dir) / "lib"), env.get("LD_LIBRARY_PATH", "")]
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in paths if p)
    return env


def perf_analyzer_version(binary: str | Path, cache_dir: Path = CACHE) -> str:
    """E.g. ``Perf Analyzer Version 2.51.0 (commit unknown)``; raises if the binary does not start."""
    try:
        done = subprocess.run([str(binary), "--version"], check=False, capture_output=True, text=True, timeout=60,
                              env=perf_analyzer_env(cache_dir))
    except OSError as e:
        raise PerfAnalyzerError(f"cannot run {binary}: {e}") from e
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        raise PerfAnalyzerError(f"{binary} --version failed ({done.returncode}):\n{done.stdout}{done.stderr}",
                                done.returncode, done.stdout, done.stderr)
    return lines[0]


def ensure_perf_analyzer(cache_dir: Path = CACHE) -> Path:
    """The perf_analyzer binary, installed into ``cache_dir`` on first use, with its libraries in reach.

    Installs nothing that is already there; checks that the binary starts (``--version``).
    """
    cache_dir = Path(cache_dir).resolve()
    binary = cache_dir / "bin" / "perf_analyzer"
    if not binary.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        _pip_target(cache_dir, TRITONCLIENT_WITH_WORKING_BINARY)
        if not binary.exists():
            raise PerfAnalyzerError(f"{TRITONCLIENT_WITH_WORKING_BINARY} installed into {cache_dir} but holds no "
                                    "bin/perf_analyzer (is this an x86_64/aarch64 Linux machine?)")
    binary.chmod(binary.stat().st_mode | 0o111)
    lib_dir = cache_dir / "lib"
    lib_dir.mkdir(exist_ok=True)
    for link in lib_dir.iterdir():  # e.g. a venv that moved since the links were made
        if link.is_symlink() and not link.exists():
            link.unlink()
    _ensure_libb64(lib_dir)
    _ensure_cudart(cache_dir, lib_dir)
    perf_analyzer_version(binary, cache_dir)
    return binary


# --------------------------------------------------------------------------- inputs


def make_input_json(images: Sequence[Path | str | bytes], out: Path, input_name: str = "IMAGE",
                    size: tuple[int, int] | None = None) -> Path:
    """perf_analyzer ``--input-data`` file: one data step per image, ``{"data": [{IMAGE: {b64, shape}}]}``.

    For a BYTES tensor perf_analyzer takes the b64 payload as the tensor's raw serialized content, so
    each element is a 4-byte little-endian length followed by the bytes (raw JPEG bytes alone fail
    with "incomplete string data ... expecting string of length <garbage>").
    """
    if not images:
        raise ValueError("no images for the input file")
    steps = []
    for image in images:
        data = image_bytes(image, size)
        payload = base64.b64encode(struct.pack("<I", len(data)) + data).decode("ascii")
        steps.append({input_name: {"b64": payload, "shape": [1]}})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"data": steps}))
    return out


# --------------------------------------------------------------------------- measurement


_COLUMNS = {"concurrency": "Concurrency", "infer_per_s": "Inferences/Second", "p50_ms": "p50 latency",
            "p90_ms": "p90 latency", "p95_ms": "p95 latency", "p99_ms": "p99 latency"}
_AVG_PARTS = ["Client Send", "Network+Server Send/Recv", "Server Queue", "Server Compute Input",
              "Server Compute Infer", "Server Compute Output", "Client Recv"]


def parse_csv(path: Path) -> list[dict]:
    """Rows of perf_analyzer's ``-f`` CSV, by header name; latencies (microseconds there) in ms here."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise PerfAnalyzerError(f"perf_analyzer wrote no rows to {path}")
    missing = [c for c in _COLUMNS.values() if c not in rows[0]]
    if missing:
        raise PerfAnalyzerError(f"perf_analyzer CSV lacks {missing}; it has {list(rows[0])}")
    results = []
    for row in rows:
        def us(key: str, row: dict = row) -> float:  # microseconds (integers) -> ms
            return float(row[key]) / 1000.0

        result = {"concurrency": int(row["Concurrency"]), "infer_per_s": float(row["Inferences/Second"])}
        result.update({key: us(column) for key, column in _COLUMNS.items() if key.endswith("_ms")})
        if all(part in row for part in _AVG_PARTS):  # the parts add up to the average latency
            result["avg_ms"] = round(sum(us(part) for part in _AVG_PARTS), 3)
            result["server_queue_ms"] = us("Server Queue")
            result["server_compute_ms"] = round(sum(us(f"Server Compute {s}") for s in ("Input", "Infer", "Output")), 3)
        results.append(result)
    return results


def level_timeout_s(measurement_interval_ms: int, max_trials: int) -> float:
    """Upper bound for one concurrency level: every trial window, 50% slack, 60 s to connect and drain."""
    return max_trials * measurement_interval_ms / 1000.0 * 1.5 + 60.0


def run_sweep(url: str, images: Sequence[Path | str | bytes] | None = None, model: str = "sky_segmentation",
              protocol: str = "grpc", concurrency: Iterable[int] = (1, 2, 4, 8),
              measurement_interval_ms: int = 3000, extra_args: Sequence[str] = (), *,
              max_trials: int = 6, stability_percentage: float = 20, timeout_s: float | None = None,
              binary: str | Path | None = None, input_name: str = "IMAGE", size: tuple[int, int] | None = None,
              cache_dir: Path = CACHE, progress: Callable[[dict], None] | None = None,
              interval_ms: int | None = None, stability: float | None = None) -> list[dict]:
    """One perf_analyzer run per concurrency level; a dict per level (infer/s, latency percentiles in ms).

    ``images``: JPEG bytes or image paths (None: the default CamVid images, else synthetic ones);
    ``size`` (W, H) resizes them. A level is stable when the last 3 windows agree within
    ``stability_percentage`` (throughput and average latency); perf_analyzer gives up (exit 2) after
    ``max_trials`` windows. ``timeout_s`` bounds the whole sweep (default: ``level_timeout_s`` per level).
    ``binary``: an existing perf_analyzer (e.g. NVIDIA's SDK image) instead of the 2.51 install.
    ``interval_ms``/``stability`` are older spellings of ``measurement_interval_ms``/``stability_percentage``.
    Raises PerfAnalyzerError (with perf_analyzer's stderr and the levels already measured) on failure.
    """
    interval = int(interval_ms if interval_ms is not None else measurement_interval_ms)
    stability_pct = stability if stability is not None else stability_percentage
    levels = [int(c) for c in concurrency]
    if protocol not in ("grpc", "http"):
        raise ValueError(f"protocol must be grpc or http, not {protocol!r}")
    if not levels or min(levels) < 1:
        raise ValueError(f"concurrency levels must be >= 1: {levels}")
    if max_trials < 3:
        raise ValueError("max_trials must be >= 3: stability compares the last 3 windows")
    if images is None:
        images, _ = load_images(DEFAULT_IMAGES, DEFAULT_COUNT, size)
        size = None
    binary = str(binary) if binary else str(ensure_perf_analyzer(cache_dir))
    budget = timeout_s if timeout_s is not None else len(levels) * level_timeout_s(interval, max_trials)
    deadline = time.monotonic() + budget
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="perf-analyzer-") as tmp:
        data = make_input_json(list(images), Path(tmp) / "input.json", input_name, size)
        for level in levels:
            report = Path(tmp) / f"c{level}.csv"
            command = [binary, "-m", model, "-u", url, "-i", protocol, "--input-data", str(data),
                       "--concurrency-range", f"{level}:{level}", "--measurement-mode", "time_windows",
                       "--measurement-interval", str(interval), "--max-trials", str(max_trials),
                       "--stability-percentage", str(stability_pct), "-f", str(report), *map(str, extra_args)]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PerfAnalyzerError(f"sweep time limit ({budget:.0f} s) reached before concurrency {level}",
                                        124, results=results)
            try:
                done = subprocess.run(command, check=False, capture_output=True, text=True,
                                      env=perf_analyzer_env(cache_dir), timeout=min(remaining, level_timeout_s(interval, max_trials)))
            except subprocess.TimeoutExpired as e:
                out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
                err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
                raise PerfAnalyzerError(f"perf_analyzer timed out after {e.timeout:.0f} s at concurrency {level}:"
                                        f"\n{shlex.join(command)}\n{err}", 124, out, err, results) from e
            if done.returncode != 0 or not report.exists():
                hint = ("\n(unstable: raise --interval-ms, --max-trials or --stability-percentage, or give the "
                        "machine to the benchmark)" if done.returncode == 2 else "")
                raise PerfAnalyzerError(
                    f"perf_analyzer failed (exit {done.returncode}) at concurrency {level}:\n{shlex.join(command)}\n"
                    f"{done.stderr.strip() or done.stdout[-3000:]}{hint}",
                    done.returncode or 1, done.stdout, done.stderr, results)
            for result in parse_csv(report):
                results.append(result)
                if progress:
                    progress(result)
    return results
