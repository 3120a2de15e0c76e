"""Local inference (skyseg.local, `--local`): the server's masks without a server, pixel for pixel,
the server's refusals for bad input, and an install with only the client and its `local` extra."""
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from hostile_inputs import bomb_png
from skyseg import samples
from skyseg.local import LocalSegmenter, segment_local
from skyseg_client import SkySegError

ROOT = Path(__file__).resolve().parents[1]


def _images(shared_data_dir) -> list[Path]:
    return sorted((shared_data_dir / "camvid" / "test").glob("*.jpg"))[::40]


def test_local_masks_equal_the_servers_on_camvid(grpc_client, shared_data):
    paths = _images(shared_data)
    local = LocalSegmenter().segment_many(paths)
    for path, mine, served in zip(paths, local, grpc_client.segment_many(paths), strict=True):
        np.testing.assert_array_equal(mine, served, err_msg=str(path))


def test_local_frames_equal_the_servers_raw_path(grpc_client):
    frame = samples.render_scene(960, 540, seed=5)
    np.testing.assert_array_equal(segment_local(frame), grpc_client.segment(frame))
    pairs = list(LocalSegmenter().segment_frames([frame, frame[:, ::-1].copy()]))
    assert [f.shape for f, _ in pairs] == [frame.shape] * 2 and pairs[0][1].shape == frame.shape[:2]


@pytest.mark.parametrize("payload,phrase", [
    (b"", "is empty"),
    (b"%PDF-1.7\n" + bytes(200), "not a JPEG, PNG, BMP or WebP file"),
    (bomb_png(), "refused before decoding"),
    (b"\xff\xd8\xff\xe0" + bytes(100), "could not be decoded"),
])
def test_local_refuses_bad_input_with_the_servers_message(payload, phrase):
    with pytest.raises(SkySegError, match=phrase):
        segment_local(payload)


def test_local_refuses_bad_frames_and_missing_files(tmp_path):
    with pytest.raises(SkySegError, match="must be UINT8"):
        segment_local(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(SkySegError, match=r"must have shape \[H, W, 3\]"):
        segment_local(np.zeros((10, 10, 5), np.uint8))
    with pytest.raises(FileNotFoundError, match="no such image file"):
        segment_local(tmp_path / "missing.jpg")
    with pytest.raises(SkySegError, match="more than the configured limit"):
        LocalSegmenter(max_pixels=100).segment(np.zeros((20, 20, 3), np.uint8))


@pytest.mark.slow
def test_a_venv_with_only_the_client_and_its_local_extra_segments_like_the_server(grpc_client, tmp_path):
    """`pip install "./client[local]" .`: no pytriton, no torch; `skyseg segment --local` writes the
    server's mask. (Real CamVid when ../shared is present, a rendered scene otherwise.)"""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "./client[local]", "."], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    found = subprocess.run([str(venv / "bin" / "python"), "-c", "import importlib.util as u; print([m for m in "
                            "('pytriton', 'torch', 'mmseg') if u.find_spec(m)])"], capture_output=True, text=True)
    assert found.stdout.strip() == "[]"
    camvid = Path(os.environ.get("SKYSEG_SHARED_DATA", ROOT.parent / "shared" / "data")) / "camvid" / "test"
    photo = next(iter(sorted(camvid.glob("*.jpg"))), None)
    if photo is None:
        photo = tmp_path / "scene.jpg"
        cv2.imwrite(str(photo), samples.render_scene(640, 480, seed=9))
    done = subprocess.run([str(venv / "bin" / "skyseg"), "segment", "--local", str(photo), "-o", str(tmp_path / "out")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    mask = cv2.imread(str(tmp_path / "out" / f"{photo.stem}_mask.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(mask, grpc_client.segment(str(photo)))
