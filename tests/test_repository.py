"""The committed Triton repository parses, and is exactly what build-repo makes from the package."""
import os
from pathlib import Path

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from skyseg.assets import DEFAULT_INT8_ONNX, DEFAULT_ONNX, PACKAGE
from skyseg.contract import Contract
from skyseg.convert.repository import CHECKOUT_REPOSITORY, ServingOptions, build_repository, network_config_gpu
from skyseg.train.runner import DEFAULT_CONFIG, load_contract

CONFIGS = sorted(CHECKOUT_REPOSITORY.glob("*/config.pbtxt"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.parent.name)
def test_config_parses_as_triton_model_config(path: Path):
    config = text_format.Parse(path.read_text(), mc.ModelConfig())
    assert config.name == path.parent.name
    assert (path.parent / "1").is_dir(), "Triton needs a version directory"


def test_repository_has_the_whole_ensemble():
    names = {p.parent.name for p in CONFIGS}
    assert names == {"preprocess", "preprocess_raw", "bisenetv2", "postprocess", "sky_segmentation",
                     "sky_segmentation_raw", "sky_segmentation_mask", "sky_segmentation_raw_mask"}


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` through its links, by relative path (bytecode and git's placeholders aside)."""
    files = {}
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if name != ".gitkeep":
                path = Path(folder) / name
                files[str(path.relative_to(root))] = path.read_bytes()
    return files


def test_committed_repository_is_exactly_a_fresh_build_from_the_package(tmp_path):
    """`skyseg build-repo`'s CPU default (the embedded model, INT8, its contract from the ONNX
    metadata) written with copies equals the committed repository read through its links."""
    build_repository(Contract.from_onnx(DEFAULT_ONNX), DEFAULT_ONNX, tmp_path, int8_onnx=DEFAULT_INT8_ONNX)
    fresh, committed = _files(tmp_path), _files(CHECKOUT_REPOSITORY)
    assert sorted(committed) == sorted(fresh), "the committed repository is stale: run `skyseg build-repo`"
    for name, data in fresh.items():
        assert committed[name] == data, f"model_repository/{name} is stale: run `skyseg build-repo`"


def test_committed_repository_holds_no_code_of_its_own():
    """Configs are generated files; everything else is a link into the package, which is where
    the code lives (and what the wheel carries)."""
    for path in sorted(CHECKOUT_REPOSITORY.rglob("*")):
        if path.name in ("config.pbtxt", ".gitkeep") or "__pycache__" in path.parts or (path.is_dir() and not path.is_symlink()):
            continue
        assert path.is_symlink(), f"{path} should be a link into the package (`skyseg build-repo` writes it)"
        assert PACKAGE in path.resolve().parents, f"{path} points outside the package: {path.resolve()}"


def test_contract_values_reach_the_configs():
    contract = load_contract(DEFAULT_CONFIG)
    pre = text_format.Parse((CHECKOUT_REPOSITORY / "preprocess/config.pbtxt").read_text(), mc.ModelConfig())
    assert pre.parameters["input_height"].string_value == str(contract.input_height)
    assert pre.parameters["size_divisor"].string_value == str(contract.size_divisor) == "32"
    assert list(pre.output[0].dims) == [3, -1, -1]  # the canvas follows each image's aspect
    assert pre.parameters["mean"].string_value == str(list(contract.mean))
    gpu_warmup = network_config_gpu(contract, (2, -1, -1), ServingOptions()).model_warmup[0]
    assert list(gpu_warmup.inputs["input"].dims) == [3, contract.input_height, contract.input_width]


def test_the_refinement_reaches_the_postprocess_as_one_object():
    """R11's weights and R16's cascade ship on in the CPU default, with the training config's values,
    as one ``refinement`` parameter that the postprocess reads back into ``ops.Refinement``."""
    import dataclasses
    import json

    from skyseg.convert.repository import postprocess_config
    from skyseg.ops import Refinement

    contract = load_contract(DEFAULT_CONFIG)
    assert len(contract.refine.learned) == 9 and len(contract.refine.cascade) > 100
    served = postprocess_config(contract, (2, -1, -1), ServingOptions()).parameters["refinement"]
    assert Refinement(**json.loads(served.string_value)) == contract.refine
    off = dataclasses.replace(contract, refine=Refinement())
    served_off = postprocess_config(off, (2, -1, -1), ServingOptions()).parameters["refinement"]
    assert Refinement(**json.loads(served_off.string_value)) == Refinement() and not Refinement().enabled


def test_the_cascade_comes_from_the_file_the_config_names(tmp_path):
    """R16's MLP is read from ``sky_refine.cascade``'s JSON file into the contract (and so into the
    ONNX metadata); a file that does not fit the features, or no file, is refused by name."""
    from skyseg.train.runner import load_config

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
    assert Contract.from_config(cfg).refine.cascade == ()


def test_models_exported_before_the_refinement_was_one_object_still_load():
    """Metadata with the flat ``refine_*`` keys (exported before 2026-12-04) reads into the same contract."""
    import dataclasses

    contract = load_contract(DEFAULT_CONFIG)
    flat = {k: v for k, v in dataclasses.asdict(contract).items() if k != "refine"}
    flat.update({f"refine_{k}": list(v) if isinstance(v, tuple) else v
                 for k, v in dataclasses.asdict(contract.refine).items()})
    assert Contract.from_dict(flat) == contract


def _parse(path: Path) -> mc.ModelConfig:
    return text_format.Parse(path.read_text(), mc.ModelConfig())


def test_gpu_repository_parses_and_keeps_the_ensemble_graph(gpu_repository):
    for path in sorted(gpu_repository.glob("*/config.pbtxt")):
        _parse(path)
    for ensemble in ("sky_segmentation", "sky_segmentation_raw", "sky_segmentation_mask", "sky_segmentation_raw_mask"):
        assert _parse(gpu_repository / ensemble / "config.pbtxt") == _parse(CHECKOUT_REPOSITORY / ensemble / "config.pbtxt")
    cpu, gpu = (_parse(r / "bisenetv2/config.pbtxt") for r in (CHECKOUT_REPOSITORY, gpu_repository))
    assert (list(cpu.input), list(cpu.output), cpu.max_batch_size) == (list(gpu.input), list(gpu.output), gpu.max_batch_size)
    assert gpu.platform == "tensorrt_plan" and gpu.default_model_filename == "model.plan"
    assert gpu.instance_group[0].kind == mc.ModelInstanceGroup.KIND_GPU
    assert gpu.model_warmup[0].batch_size == gpu.max_batch_size
    assert not (gpu_repository / "bisenetv2/1/model.py").exists()
    assert (gpu_repository / "bisenetv2/1/model.onnx").exists()  # the plan's source, built on the GPU host


def test_int8_precision_switches_only_the_onnx_file(tmp_path):
    contract = load_contract(DEFAULT_CONFIG)
    build_repository(contract, DEFAULT_ONNX, tmp_path / "fp32")
    build_repository(contract, DEFAULT_ONNX, tmp_path / "int8", int8_onnx=DEFAULT_INT8_ONNX)
    cpu, int8 = (_parse(tmp_path / r / "bisenetv2/config.pbtxt") for r in ("fp32", "int8"))
    assert int8.parameters["onnx_file"].string_value == "model.int8.onnx"
    assert cpu.parameters["onnx_file"].string_value == "model.onnx"
    del int8.parameters["onnx_file"], cpu.parameters["onnx_file"]
    assert int8 == cpu


def test_onnx_carries_the_same_contract_as_the_training_config():
    for onnx in (DEFAULT_ONNX, DEFAULT_INT8_ONNX):
        assert Contract.from_onnx(onnx) == load_contract(DEFAULT_CONFIG)


def test_export_and_quantize_write_a_work_folder_unless_told_to_publish():
    """Issue: `skyseg export` without --out overwrote the committed model. Defaults now point at a
    work folder; the committed repository changes only when its path is given."""
    import argparse

    from skyseg.convert.cli import register_export, register_quantize

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
            f"rc = main(['build-repo', '--target', 'gpu', '--out', {str(tmp_path / 'gpu')!r}])\n"
            "print(rc, sorted(m for m in ('torch', 'mmseg', 'mmengine', 'mmcv') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0 []"
    assert (tmp_path / "gpu" / "bisenetv2" / "config.pbtxt").exists()
