"""The `skyseg` command line against the real server, and `skyseg serve` failing loudly."""
import subprocess
import sys

import cv2
import pytest

from skyseg import samples

pytestmark = pytest.mark.slow
SKYSEG = [sys.executable, "-m", "skyseg_client.cli"]


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*SKYSEG, *args], capture_output=True, text=True, timeout=timeout)


def test_segment_writes_one_mask_per_image_at_its_size(triton_server, shared_data, tmp_path):
    images = sorted((shared_data / "camvid" / "test").glob("*.jpg"))[:6]
    result = _run("segment", *map(str, images), "-o", str(tmp_path), "--url", triton_server.grpc_url)
    assert result.returncode == 0, result.stderr
    for image in images:
        mask = cv2.imread(str(tmp_path / f"{image.stem}_mask.png"), cv2.IMREAD_UNCHANGED)
        assert mask is not None and mask.shape == cv2.imread(str(image)).shape[:2]
        assert (tmp_path / f"{image.stem}_overlay.jpg").exists()


def test_segment_reports_a_corrupt_file_and_keeps_the_good_ones(triton_server, tmp_path):
    good = samples.write_images(tmp_path / "in", sizes=((320, 240), (200, 100)))
    corrupt = tmp_path / "in" / "broken.jpg"
    corrupt.write_bytes(good[0].read_bytes()[:200])
    result = _run("segment", str(good[0]), str(corrupt), str(good[1]), "-o", str(tmp_path / "out"),
                  "--url", triton_server.http_url, "--protocol", "http")
    assert result.returncode == 1
    assert "broken.jpg" in result.stdout + result.stderr and "could not be decoded" in result.stdout + result.stderr
    assert cv2.imread(str(tmp_path / "out" / f"{good[1].stem}_mask.png")).shape[:2] == (100, 200)
    assert not (tmp_path / "out" / "broken_mask.png").exists()


def test_video_writes_an_overlay_video_with_every_frame(triton_server, tmp_path):
    source = samples.write_video(tmp_path / "pan.mp4", frames=30, size=(320, 180))
    out = tmp_path / "sky.mp4"
    result = _run("video", str(source), "-o", str(out), "--url", triton_server.grpc_url)
    assert result.returncode == 0, result.stderr
    capture = cv2.VideoCapture(str(out))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 30
    assert (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (320, 180)


def test_serve_reports_a_model_that_fails_to_load(tmp_path):
    model = tmp_path / "repo" / "broken" / "1"
    model.mkdir(parents=True)
    (model.parent / "config.pbtxt").write_text('name: "broken"\nbackend: "python"\nmax_batch_size: 0\n'
                                               'input { name: "X" data_type: TYPE_FP32 dims: [1] }\n'
                                               'output { name: "Y" data_type: TYPE_FP32 dims: [1] }\n')
    (model / "model.py").write_text("class TritonPythonModel:\n    def initialize(self, args):\n"
                                    "        raise RuntimeError('weights file sky.onnx is missing')\n")
    from skyseg.serving import free_port

    result = _run("serve", "--model-repository", str(tmp_path / "repo"), "--http-port", str(free_port()),
                  "--grpc-port", str(free_port()), "--metrics-port", str(free_port()), timeout=120)
    assert result.returncode != 0
    assert "weights file sky.onnx is missing" in result.stderr


def test_printed_tritonserver_command_serves_the_repository(tmp_path):
    """`skyseg serve --print-command` is how users run plain `tritonserver --model-repository ...`."""
    import time
    import urllib.request

    from skyseg.serving import free_port

    http = free_port()
    printed = _run("serve", "--print-command", "--http-port", str(http), "--grpc-port", str(free_port()),
                   "--metrics-port", str(free_port()))
    assert printed.returncode == 0 and "--model-repository=" in printed.stdout
    with open(tmp_path / "log", "wb") as log:
        server = subprocess.Popen(["bash", "-c", "exec " + printed.stdout.strip()], stdout=log, stderr=log)
    try:
        deadline, ready = time.monotonic() + 60, False
        while time.monotonic() < deadline and not ready and server.poll() is None:
            try:
                ready = urllib.request.urlopen(f"http://127.0.0.1:{http}/v2/health/ready", timeout=2).status == 200
            except OSError:
                time.sleep(0.5)
        assert ready, (tmp_path / "log").read_text()[-2000:]
    finally:
        server.terminate()
        server.wait(30)
