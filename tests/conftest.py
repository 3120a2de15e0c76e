"""Fixtures: a real tritonserver on free loopback ports, the shared real data (or a skip), and a
writer of converted splits for the data tools' tests."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SKYSEG_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def write_pair():
    """Write one image and its label as ``<root>/<split>/{images,masks}/<stem>``, a converted split."""
    import cv2
    import numpy as np

    def write(root: Path, split: str, stem: str, image, label) -> None:
        (root / split / "images").mkdir(parents=True, exist_ok=True)
        (root / split / "masks").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / split / "images" / f"{stem}.jpg"), image)
        cv2.imwrite(str(root / split / "masks" / f"{stem}.png"), label.astype(np.uint8))

    return write


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "camvid").is_dir():
        pytest.skip(f"real-data test: {SHARED_DATA} is absent (set SKYSEG_SHARED_DATA to point at it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def triton_server(tmp_path_factory):
    from skyseg.serving import DEFAULT_REPOSITORY, TritonServer, free_port

    if not (DEFAULT_REPOSITORY / "bisenetv2" / "1" / "model.int8.onnx").exists():
        pytest.fail("model_repository/bisenetv2/1/model.int8.onnx is missing: run `skyseg build-repo`")
    log_file = tmp_path_factory.mktemp("triton") / "tritonserver.log"
    server = TritonServer(DEFAULT_REPOSITORY, http_port=free_port(), grpc_port=free_port(),
                          metrics_port=free_port(), log_file=log_file)
    with server:
        yield server
    assert server.process.returncode is not None


@pytest.fixture(scope="session")
def grpc_client(triton_server):
    from skyseg_client import SkySegClient

    with SkySegClient(triton_server.grpc_url, protocol="grpc", max_in_flight=4) as client:
        yield client


@pytest.fixture(scope="session")
def gpu_repository(tmp_path_factory) -> Path:
    """The GPU target of build-repo from the committed model (no GPU needed to write it)."""
    from skyseg.assets import DEFAULT_ONNX
    from skyseg.convert.repository import build_repository
    from skyseg.train.runner import DEFAULT_CONFIG, load_contract

    out = tmp_path_factory.mktemp("gpu_repository")
    build_repository(load_contract(DEFAULT_CONFIG), DEFAULT_ONNX,
                     out, target="gpu")
    return out
