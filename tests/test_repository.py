"""The committed Triton repository parses, and is exactly what build-repo makes from the config."""
from pathlib import Path

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from skyseg.contract import Contract
from skyseg.convert.repository import SOURCE_REPOSITORY, ServingOptions, build_repository, network_config_gpu
from skyseg.train.runner import DEFAULT_CONFIG

CONFIGS = sorted(SOURCE_REPOSITORY.glob("*/config.pbtxt"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.parent.name)
def test_config_parses_as_triton_model_config(path: Path):
    config = text_format.Parse(path.read_text(), mc.ModelConfig())
    assert config.name == path.parent.name
    assert (path.parent / "1").is_dir(), "Triton needs a version directory"


def test_repository_has_the_whole_ensemble():
    names = {p.parent.name for p in CONFIGS}
    assert names == {"preprocess", "preprocess_raw", "bisenetv2", "postprocess",
                     "sky_segmentation", "sky_segmentation_raw"}


def test_committed_configs_equal_a_fresh_build_from_the_training_config(tmp_path):
    version_dir = SOURCE_REPOSITORY / "bisenetv2" / "1"
    written = build_repository(Contract.from_config_file(DEFAULT_CONFIG), version_dir / "model.onnx", tmp_path,
                               int8_onnx=version_dir / "model.int8.onnx")  # `skyseg build-repo`'s CPU default
    for path in written:
        committed = SOURCE_REPOSITORY / path.relative_to(tmp_path)
        assert committed.read_text() == path.read_text(), f"{committed} is stale: run `skyseg build-repo`"


def test_contract_values_reach_the_configs():
    contract = Contract.from_config_file(DEFAULT_CONFIG)
    pre = text_format.Parse((SOURCE_REPOSITORY / "preprocess/config.pbtxt").read_text(), mc.ModelConfig())
    assert pre.parameters["input_height"].string_value == str(contract.input_height)
    assert pre.parameters["size_divisor"].string_value == str(contract.size_divisor) == "32"
    assert list(pre.output[0].dims) == [3, -1, -1]  # the canvas follows each image's aspect
    assert pre.parameters["mean"].string_value == str(list(contract.mean))
    gpu_warmup = network_config_gpu(contract, (2, -1, -1), ServingOptions()).model_warmup[0]
    assert list(gpu_warmup.inputs["input"].dims) == [3, contract.input_height, contract.input_width]


def test_learned_refinement_weights_reach_the_postprocess_only_when_set():
    """R11 ships on in the CPU default, with the training config's weights; a config without it
    sends no weights, so the postprocess skips the learned step."""
    import dataclasses

    from skyseg.convert.repository import postprocess_config

    contract = Contract.from_config_file(DEFAULT_CONFIG)
    assert len(contract.refine_learned) == 9
    served = postprocess_config(contract, (2, -1, -1), ServingOptions()).parameters["refine_learned"]
    assert tuple(map(float, served.string_value.split(","))) == pytest.approx(contract.refine_learned)
    off = postprocess_config(dataclasses.replace(contract, refine_learned=()), (2, -1, -1), ServingOptions())
    assert "refine_learned" not in off.parameters


def test_the_cascade_reaches_the_postprocess_from_the_file_the_config_names(tmp_path):
    """R16's MLP is read from ``sky_refine.cascade``'s JSON file into the contract (and so into the
    ONNX metadata), and written into the postprocess config; without it the parameter is absent."""
    import dataclasses

    from skyseg.convert.repository import postprocess_config
    from skyseg.train.runner import load_config

    contract = Contract.from_config_file(DEFAULT_CONFIG)
    assert len(contract.refine_cascade) > 100
    served = postprocess_config(contract, (2, -1, -1), ServingOptions()).parameters["refine_cascade"]
    assert tuple(map(float, served.string_value.split(","))) == pytest.approx(contract.refine_cascade)
    off = postprocess_config(dataclasses.replace(contract, refine_cascade=()), (2, -1, -1), ServingOptions())
    assert "refine_cascade" not in off.parameters

    cfg = load_config(DEFAULT_CONFIG)
    broken = tmp_path / "cascade.json"
    broken.write_text('{"vector": [2.0, 14.0, 16.0, 1.0]}')
    cfg.sky_refine.cascade = str(broken)
    with pytest.raises(ValueError, match="needs .* values, got 4"):
        Contract.from_config(cfg)
    cfg.sky_refine.cascade = str(tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match="fit-refine --cascade"):
        Contract.from_config(cfg)
    cfg.sky_refine.cascade = None
    assert Contract.from_config(cfg).refine_cascade == ()


def test_shared_ops_are_one_file():
    for model in ("preprocess_raw", "postprocess"):
        link = SOURCE_REPOSITORY / model / "1" / "skyseg_ops.py"
        assert link.is_symlink() and link.resolve() == (SOURCE_REPOSITORY / "preprocess/1/skyseg_ops.py")


def _parse(path: Path) -> mc.ModelConfig:
    return text_format.Parse(path.read_text(), mc.ModelConfig())


def test_gpu_repository_parses_and_keeps_the_ensemble_graph(gpu_repository):
    for path in sorted(gpu_repository.glob("*/config.pbtxt")):
        _parse(path)
    for ensemble in ("sky_segmentation", "sky_segmentation_raw"):
        assert _parse(gpu_repository / ensemble / "config.pbtxt") == _parse(SOURCE_REPOSITORY / ensemble / "config.pbtxt")
    cpu, gpu = (_parse(r / "bisenetv2/config.pbtxt") for r in (SOURCE_REPOSITORY, gpu_repository))
    assert (list(cpu.input), list(cpu.output), cpu.max_batch_size) == (list(gpu.input), list(gpu.output), gpu.max_batch_size)
    assert gpu.platform == "tensorrt_plan" and gpu.default_model_filename == "model.plan"
    assert gpu.instance_group[0].kind == mc.ModelInstanceGroup.KIND_GPU
    assert gpu.model_warmup[0].batch_size == gpu.max_batch_size
    assert not (gpu_repository / "bisenetv2/1/model.py").exists()
    assert (gpu_repository / "bisenetv2/1/model.onnx").exists()  # the plan's source, built on the GPU host


def test_int8_precision_switches_only_the_onnx_file(tmp_path):
    version_dir = SOURCE_REPOSITORY / "bisenetv2/1"
    contract = Contract.from_config_file(DEFAULT_CONFIG)
    build_repository(contract, version_dir / "model.onnx", tmp_path / "fp32")
    build_repository(contract, version_dir / "model.onnx", tmp_path / "int8", int8_onnx=version_dir / "model.int8.onnx")
    cpu, int8 = (_parse(tmp_path / r / "bisenetv2/config.pbtxt") for r in ("fp32", "int8"))
    assert int8.parameters["onnx_file"].string_value == "model.int8.onnx"
    assert cpu.parameters["onnx_file"].string_value == "model.onnx"
    del int8.parameters["onnx_file"], cpu.parameters["onnx_file"]
    assert int8 == cpu


def test_onnx_carries_the_same_contract_as_the_training_config():
    onnx = SOURCE_REPOSITORY / "bisenetv2/1/model.onnx"
    assert Contract.from_onnx(onnx) == Contract.from_config_file(DEFAULT_CONFIG)


def test_export_and_quantize_write_a_work_folder_unless_told_to_publish():
    """Issue: `skyseg export` without --out overwrote the committed model. Defaults now point at a
    work folder; the committed repository changes only when its path is given."""
    import argparse

    from skyseg.convert.cli import DEFAULT_ONNX, register_export, register_quantize

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    register_export(sub)
    register_quantize(sub)
    committed = DEFAULT_ONNX.parent.resolve()
    export = parser.parse_args(["export", "x.pth"])
    quantize = parser.parse_args(["quantize"])
    assert committed not in export.out.resolve().parents and committed not in quantize.onnx.resolve().parents
    assert quantize.out is None  # beside --onnx, i.e. the work folder too
    published = parser.parse_args(["export", "x.pth", "--out", str(DEFAULT_ONNX)])
    assert published.out == DEFAULT_ONNX


def test_build_repo_imports_neither_torch_nor_openmmlab(tmp_path):
    """The serving image has no torch (issue 24): the Dockerfile's build-repo line must not need it.
    Run in a fresh interpreter, so nothing imported by other tests can hide an import."""
    import subprocess
    import sys

    code = ("import sys\nfrom skyseg_client.cli import main\n"
            f"rc = main(['build-repo', '--target', 'gpu', '--contract-from-onnx', '--out', {str(tmp_path / 'gpu')!r}])\n"
            "print(rc, sorted(m for m in ('torch', 'mmseg', 'mmengine', 'mmcv') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0 []"
    assert (tmp_path / "gpu" / "bisenetv2" / "config.pbtxt").exists()
