"""The committed Triton repository parses, and is exactly what build-repo makes from the config."""
from pathlib import Path

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from skyseg.contract import Contract
from skyseg.convert.repository import SOURCE_REPOSITORY, build_repository
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
    onnx = SOURCE_REPOSITORY / "bisenetv2" / "1" / "model.onnx"
    written = build_repository(Contract.from_config_file(DEFAULT_CONFIG), onnx, tmp_path)
    for path in written:
        committed = SOURCE_REPOSITORY / path.relative_to(tmp_path)
        assert committed.read_text() == path.read_text(), f"{committed} is stale: run `skyseg build-repo`"


def test_contract_values_reach_the_configs():
    contract = Contract.from_config_file(DEFAULT_CONFIG)
    pre = text_format.Parse((SOURCE_REPOSITORY / "preprocess/config.pbtxt").read_text(), mc.ModelConfig())
    assert pre.parameters["input_height"].string_value == str(contract.input_height)
    assert list(pre.output[0].dims) == [3, contract.input_height, contract.input_width]
    assert pre.parameters["mean"].string_value == str(list(contract.mean))


def test_shared_ops_are_one_file():
    for model in ("preprocess_raw", "postprocess"):
        link = SOURCE_REPOSITORY / model / "1" / "skyseg_ops.py"
        assert link.is_symlink() and link.resolve() == (SOURCE_REPOSITORY / "preprocess/1/skyseg_ops.py")
