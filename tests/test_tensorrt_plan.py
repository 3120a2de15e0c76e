"""TensorRT plan building: naming, identity checks, the trtexec equivalent, and a real build where possible."""
import json

import pytest
from skyseg.convert.cli import plan_spec
from skyseg.convert.repository import CHECKOUT_REPOSITORY
from skyseg.convert.tensorrt_plan import (PlanError, PlanIdentity, install_plan, parse_trtexec_version,
                                          sidecar, trtexec_command)
from skyseg.train.runner import DEFAULT_CONFIG, load_contract

H100 = PlanIdentity("9.0", "10.5.0", "NVIDIA H100")


def test_plan_shapes_come_from_the_repository_config(gpu_repository):
    spec = plan_spec(gpu_repository)
    contract = load_contract(DEFAULT_CONFIG)
    assert spec.input_hw == contract.input_hw and spec.max_batch_size == 8
    command = " ".join(trtexec_command(spec, gpu_repository / "p.plan", gpu_repository / "t.cache"))
    h, w = contract.input_hw
    d = contract.size_divisor  # canvases follow each image's aspect down to one size_divisor
    assert f"--minShapes=input:1x3x{d}x{d}" in command and f"--maxShapes=input:8x3x{h}x{w}" in command
    assert "--fp16" in command and "--timingCacheFile=" in command


def test_cpu_repository_is_refused_for_plans():
    with pytest.raises(ValueError, match="not a GPU repository"):
        plan_spec(CHECKOUT_REPOSITORY)


def test_plan_names_carry_gpu_and_tensorrt():
    assert H100.filename() == "model.sm90.trt10.5.0.plan"
    assert parse_trtexec_version("100500") == "10.5.0" and parse_trtexec_version("8601") == "8.6.1"


def test_a_plan_for_another_gpu_or_tensorrt_is_refused(tmp_path):
    plan = tmp_path / PlanIdentity("8.6", "10.5.0").filename()
    plan.write_bytes(b"built elsewhere")
    sidecar(plan).write_text(json.dumps({"compute_capability": "8.6", "tensorrt": "10.5.0", "gpu": "A10"}))
    with pytest.raises(PlanError, match=r"built for sm8\.6 with TensorRT 10\.5\.0, but this host has sm9\.0"):
        install_plan(plan, tmp_path / "repo", H100)
    (tmp_path / "repo").mkdir()
    installed = install_plan(plan, tmp_path / "repo", PlanIdentity("8.6", "10.5.0"))
    assert installed.name == "model.plan" and installed.read_bytes() == b"built elsewhere"


def test_a_plan_without_identity_is_refused(tmp_path):
    plan = tmp_path / "model.plan"
    plan.write_bytes(b"?")
    with pytest.raises(PlanError, match="no identity sidecar"):
        install_plan(plan, tmp_path, H100)


def test_real_plan_build_and_parity(gpu_repository, tmp_path):
    pytest.importorskip("tensorrt", reason="TensorRT is not installed (it needs an NVIDIA GPU host)")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("TensorRT is installed but no CUDA GPU is visible")
    from skyseg.convert.cli import parity_images
    from skyseg.convert.tensorrt_parity import check_plan_parity
    from skyseg.convert.tensorrt_plan import build_plan, host_identity

    spec, identity = plan_spec(gpu_repository), host_identity()
    plan = build_plan(spec, tmp_path / "cache", identity)
    installed = install_plan(plan, spec.onnx.parent, identity)
    report = check_plan_parity(installed, spec.onnx, load_contract(DEFAULT_CONFIG),
                               parity_images("../shared/data/camvid/test/*.jpg"))
    assert report.mask_agreement >= 0.995
    assert build_plan(spec, tmp_path / "cache", identity) == plan  # cached by GPU and TensorRT
