"""FP16 TensorRT plans for the GPU repository, built where they will run.

A plan only runs on the GPU architecture and TensorRT version that built it, so plans are named
and cached by both (``model.sm90.trt10.5.0.plan``) with a JSON sidecar recording that identity;
``install_plan`` refuses a plan whose identity differs from the host's. The builder uses the
TensorRT Python API when it imports, else ``trtexec`` (what NVIDIA's tritonserver container
ships) with the very same parameters. This module imports only the standard library at load.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from skyseg.contract import MODEL_INPUT

PLAN_FILE = "model.plan"
TRTEXEC_CANDIDATES = ("trtexec", "/usr/src/tensorrt/bin/trtexec")


class PlanError(RuntimeError):
    pass


@dataclass(frozen=True)
class PlanSpec:
    onnx: Path
    input_hw: tuple[int, int]
    max_batch_size: int = 8
    workspace_mib: int = 2048
    fp16: bool = True
    min_hw: tuple[int, int] | None = None  #: smallest canvas (one size_divisor); None = input_hw only

    def shape(self, batch: int) -> tuple[int, int, int, int]:
        return (batch, 3, *self.input_hw)

    def min_shape(self) -> tuple[int, int, int, int]:
        return (1, 3, *(self.min_hw or self.input_hw))


@dataclass(frozen=True)
class PlanIdentity:
    compute_capability: str  #: e.g. "9.0"
    tensorrt: str  #: e.g. "10.5.0"
    gpu: str = ""

    def filename(self) -> str:
        return f"model.sm{self.compute_capability.replace('.', '')}.trt{self.tensorrt}.plan"

    def same_target(self, other: "PlanIdentity") -> bool:
        return (self.compute_capability, self.tensorrt) == (other.compute_capability, other.tensorrt)


def trtexec_command(spec: PlanSpec, plan: Path, timing_cache: Path, trtexec: str = "trtexec") -> list[str]:
    dims = lambda b: "x".join(map(str, spec.shape(b)))  # noqa: E731
    command = [trtexec, f"--onnx={spec.onnx}", f"--saveEngine={plan}",
               f"--minShapes={MODEL_INPUT}:{'x'.join(map(str, spec.min_shape()))}", f"--optShapes={MODEL_INPUT}:{dims(spec.max_batch_size)}",
               f"--maxShapes={MODEL_INPUT}:{dims(spec.max_batch_size)}",
               f"--memPoolSize=workspace:{spec.workspace_mib}", f"--timingCacheFile={timing_cache}"]
    return command + (["--fp16"] if spec.fp16 else [])


def _find_trtexec() -> str | None:
    return next((c for c in TRTEXEC_CANDIDATES if shutil.which(c)), None)


def host_identity() -> PlanIdentity:
    """The GPU and TensorRT this host would build for."""
    try:
        query = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap,name", "--format=csv,noheader"],
                               capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise PlanError(f"no NVIDIA GPU visible (nvidia-smi failed: {exc}); TensorRT plans need one") from exc
    cc, name = (part.strip() for part in query.splitlines()[0].split(",", 1))
    return PlanIdentity(cc, tensorrt_version(), name)


def tensorrt_version() -> str:
    try:
        import tensorrt as trt

        return trt.__version__
    except ImportError:
        pass
    trtexec = _find_trtexec()
    if trtexec is None:
        raise PlanError("neither the TensorRT Python package nor trtexec is available")
    banner = subprocess.run([trtexec, "--help"], capture_output=True, text=True, timeout=60).stdout
    match = re.search(r"TensorRT v(\d+)", banner)
    if not match:
        raise PlanError(f"cannot read the TensorRT version from `{trtexec} --help`")
    return parse_trtexec_version(match.group(1))


def parse_trtexec_version(code: str) -> str:
    """trtexec prints v100500 for 10.5.0 and v8601 for 8.6.1."""
    number = int(code)
    if number >= 10000:
        return f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    return f"{number // 1000}.{number // 100 % 10}.{number % 100}"


def _build_python_api(spec: PlanSpec, plan: Path, timing_cache: Path) -> None:
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0 if int(trt.__version__.split(".")[0]) >= 10 else 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(spec.onnx.read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise PlanError(f"TensorRT cannot parse {spec.onnx}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, spec.workspace_mib << 20)
    if spec.fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    cache = config.create_timing_cache(timing_cache.read_bytes() if timing_cache.exists() else b"")
    config.set_timing_cache(cache, ignore_mismatch=False)
    profile = builder.create_optimization_profile()
    profile.set_shape(MODEL_INPUT, spec.min_shape(), spec.shape(spec.max_batch_size), spec.shape(spec.max_batch_size))
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise PlanError("TensorRT failed to build the plan (see its log above)")
    plan.write_bytes(bytes(serialized))
    timing_cache.write_bytes(bytes(config.get_timing_cache().serialize()))


def build_plan(spec: PlanSpec, cache_dir: Path, identity: PlanIdentity | None = None) -> Path:
    """Build (or reuse from ``cache_dir``) the plan for this host; returns its path."""
    identity = identity or host_identity()
    cache_dir.mkdir(parents=True, exist_ok=True)
    plan = cache_dir / identity.filename()
    timing_cache = cache_dir / f"timing.sm{identity.compute_capability.replace('.', '')}.trt{identity.tensorrt}.cache"
    if plan.exists() and read_identity(plan) == identity:
        return plan
    try:
        import tensorrt  # noqa: F401
        _build_python_api(spec, plan, timing_cache)
    except ImportError:
        trtexec = _find_trtexec()
        if trtexec is None:
            raise PlanError("TensorRT is not installed here; on the GPU host run:\n  "
                            + " ".join(trtexec_command(spec, plan, timing_cache))) from None
        subprocess.run(trtexec_command(spec, plan, timing_cache, trtexec), check=True)
    sidecar(plan).write_text(json.dumps(asdict(identity), indent=2))
    return plan


def sidecar(plan: Path) -> Path:
    return plan.with_name(plan.name + ".json")


def read_identity(plan: Path) -> PlanIdentity | None:
    try:
        return PlanIdentity(**json.loads(sidecar(plan).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def install_plan(plan: Path, version_dir: Path, host: PlanIdentity) -> Path:
    """Put ``plan`` where Triton loads it, refusing a plan built for another GPU or TensorRT."""
    built_for = read_identity(plan)
    if built_for is None:
        raise PlanError(f"{plan} has no identity sidecar ({sidecar(plan).name}); rebuild it with `skyseg build-plan`")
    if not built_for.same_target(host):
        raise PlanError(f"{plan.name} was built for sm{built_for.compute_capability} with TensorRT "
                        f"{built_for.tensorrt}, but this host has sm{host.compute_capability} "
                        f"({host.gpu or 'GPU'}) with TensorRT {host.tensorrt}: rebuild it with `skyseg build-plan`")
    target = version_dir / PLAN_FILE
    target.unlink(missing_ok=True)
    shutil.copyfile(plan, target)
    sidecar(target).write_text(sidecar(plan).read_text())
    return target
