"""The GPU recipe's carry path: ``skyseg device-bundle`` here, ``train/device_train.sh`` there.

The device side is run for real on this CPU: the carried wheels are installed offline into a
fresh target folder that shadows this environment's OpenMMLab, and 2 MMSeg iterations train from
the bundle's re-encoded images, leaving an inference checkpoint and a status line in ``$OUT``.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from skyseg.train.device_bundle import CHECKPOINT_NAME, WHEELS, bundle

from test_training import tiny_dataset

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("device")
    config = tiny_dataset(tmp, images=5)
    manifest = bundle(tmp / ".device", config, tmp / "data", max_images=4, repo=REPO_ROOT)
    return tmp, config, manifest


def test_bundle_carries_pinned_wheels_and_the_configs_splits(tiny_bundle):
    tmp, _, manifest = tiny_bundle
    assert manifest["splits"] == ["tiny"] and manifest["images"] == 4
    assert len(manifest["requirements"]) == len(WHEELS)
    assert "mmsegmentation==1.2.2" in manifest["requirements"]
    wheels = sorted(p.name for p in (tmp / ".device/wheels").glob("*.whl"))
    assert len(wheels) == len(WHEELS) and all(w.endswith("-none-any.whl") for w in wheels)
    image = cv2.imread(str(next((tmp / ".device/data/sky/tiny/images").glob("*.jpg"))))
    label = cv2.imread(str(next((tmp / ".device/data/sky/tiny/masks").glob("*.png"))), cv2.IMREAD_UNCHANGED)
    assert image.shape == (96, 128, 3) and set(np.unique(label)) <= {0, 1, 255}
    assert manifest["bundle_bytes"] + manifest["tree_bytes"] < 64 << 20


@pytest.mark.slow
def test_device_script_installs_offline_and_trains_from_the_bundle(tiny_bundle):
    tmp, config, _ = tiny_bundle
    env = dict(os.environ, PYTHON=sys.executable, OUT=str(tmp / "out"), SKYSEG_DEVICE_BUNDLE=str(tmp / ".device"),
               SKYSEG_DEVICE_DEPS=str(tmp / "deps"))
    done = subprocess.run(["bash", "train/device_train.sh", "600", "--config", str(config), "--work-dir",
                           str(tmp / "work"), "--max-iters", "2"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"from {tmp / 'deps' / 'mmseg'}" in done.stdout  # the carried wheel, not this venv's mmseg
    status = json.loads((tmp / "out/status.json").read_text())
    assert status["iter"] == 2 and status["max_iters"] == 2 and status["checkpoint"] == "iter_2.pth"
    assert "Iter(train) [2/2]" in (tmp / "out/train.log").read_text()
    from skyseg.convert.network import build_network

    build_network(config, tmp / "out" / CHECKPOINT_NAME)  # strict load: backbone + decode head, no aux heads


@pytest.mark.parametrize("script", [["train/device_train.sh"], ["train/device_pair.sh", "10", "a.py", "b.py"]])
def test_device_script_names_a_missing_bundle(tmp_path, script):
    env = dict(os.environ, SKYSEG_DEVICE_BUNDLE=str(tmp_path / "absent"))
    done = subprocess.run(["bash", *script], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "run `skyseg device-bundle`" in done.stderr
