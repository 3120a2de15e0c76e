"""The README's three ways to call the server (client library, plain tritonclient, curl), run
exactly as written against the real server: only the ports and the photo are this test's."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from skyseg import samples

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _block(tag: str) -> str:
    match = re.search(rf"<!-- tested: {tag} -->\n```\w+\n(.*?)```", README, flags=re.S)
    assert match, f"README has no block tagged {tag}"
    return match.group(1)


@pytest.fixture()
def photo(tmp_path, shared_data_or_none) -> np.ndarray:
    """A real CamVid photo where ../shared is present, else a rendered scene, as tmp_path/photo.jpg."""
    source = shared_data_or_none / "camvid" / "test" / "0001TP_008550.jpg" if shared_data_or_none else None
    if source is not None and source.is_file():
        shutil.copy(source, tmp_path / "photo.jpg")
    else:
        cv2.imwrite(str(tmp_path / "photo.jpg"), samples.render_scene(640, 480, seed=7))
    return cv2.imread(str(tmp_path / "photo.jpg"))


@pytest.fixture()
def shared_data_or_none():
    from conftest import SHARED_DATA

    return SHARED_DATA if (SHARED_DATA / "camvid").is_dir() else None


def _run(tag: str, server, cwd: Path) -> subprocess.CompletedProcess:
    code = _block(tag).replace("localhost:8001", server.grpc_url).replace("localhost:8000", server.http_url)
    command = [sys.executable, "-c", code] if tag != "call-curl" else ["bash", "-euo", "pipefail", "-c", code]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{tag} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_three_readme_calls_give_the_same_mask(triton_server, grpc_client, photo, tmp_path):
    expected = grpc_client.segment(str(tmp_path / "photo.jpg"))
    assert expected.shape == photo.shape[:2] and 0 < np.mean(expected > 0) < 1
    for tag in ("call-client", "call-tritonclient"):
        (tmp_path / "mask.png").unlink(missing_ok=True)
        _run(tag, triton_server, tmp_path)
        np.testing.assert_array_equal(cv2.imread(str(tmp_path / "mask.png"), cv2.IMREAD_UNCHANGED), expected, err_msg=tag)
    if shutil.which("curl") is None or shutil.which("jq") is None:
        pytest.skip("curl or jq is not installed: the REST block cannot run here")
    done = _run("call-curl", triton_server, tmp_path)
    assert done.stdout.strip() == f"[1,{photo.shape[0]},{photo.shape[1]}]"
    raw = np.fromfile(tmp_path / "mask.raw", dtype=np.uint8)
    np.testing.assert_array_equal(raw.reshape(photo.shape[:2]), expected)
