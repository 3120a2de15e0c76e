"""What `skyseg segment` and `skyseg video` take: folders, live streams and cameras, Ctrl-C.

Against a real tritonserver, and for streams a real MJPEG-over-HTTP stream (multipart/x-mixed-replace,
as IP cameras serve it) from a server these tests run in a thread; OpenCV reads it through FFmpeg.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import pytest
from skyseg_client import sources

from skyseg import samples

SKYSEG = [sys.executable, "-m", "skyseg_client.cli"]
SIZE = (160, 120)


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*SKYSEG, *args], capture_output=True, text=True, timeout=timeout)


def _video_frames(path: Path) -> int:
    """Frames decoded from ``path`` (not the header's count: a file must play to count)."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"{path} does not open"
    count = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        assert frame.shape[:2] == (SIZE[1], SIZE[0])
        count += 1
    capture.release()
    return count


class MjpegStream:
    """An MJPEG stream on 127.0.0.1 at ``fps``, from frames rendered with ``samples.render_scene``.

    With ``first`` set, the first connection sends that many frames, then ``then``: "close" it
    (later connections stream until the client goes), "vanish" (close it and stop listening for
    good) or "stall" (keep it open, sending nothing more).
    """

    def __init__(self, first: int | None = None, then: str = "close", fps: float = 50.0) -> None:
        self.frames = [cv2.imencode(".jpg", samples.render_scene(*SIZE, seed=i))[1].tobytes() for i in range(12)]
        self.first, self.then, self.fps = first, then, fps
        self.connections = 0
        self.stopped = threading.Event()
        self.gone = threading.Event()  #: no longer listening
        stream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the connection ends with the stream

            def do_GET(self) -> None:
                stream.connections += 1
                limit = stream.first if stream.connections == 1 else None
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                sent = 0
                try:
                    while not stream.stopped.is_set() and (limit is None or sent < limit):
                        jpeg = stream.frames[sent % len(stream.frames)]
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n"
                                         % (len(jpeg), jpeg))
                        sent += 1
                        time.sleep(1 / stream.fps)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client went
                if limit is not None and stream.then == "vanish":
                    stream.close()  # stop listening before the client sees the drop
                elif limit is not None and stream.then == "stall":
                    stream.stopped.wait()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self._closed = threading.Lock()

    def close(self) -> None:
        if self._closed.acquire(blocking=False):
            self.server.shutdown()
            self.server.server_close()
            self.gone.set()

    def __enter__(self) -> MjpegStream:
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.close()


# -- skyseg segment: files and folders ----------------------------------------------------------------
def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Images in nested folders, two named a.jpg; returns their paths under root -> (h, w)."""
    layout = {"a.jpg": (320, 240), "sub/a.jpg": (200, 100), "sub/deeper/B.PNG": (64, 48), "c.webp": (96, 64)}
    for i, (name, (w, h)) in enumerate(layout.items()):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(root / name), samples.render_scene(w, h, seed=i))
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    cv2.imwrite(str(root / ".hidden" / "thumb.jpg"), samples.render_scene(32, 32))
    return {name: (h, w) for name, (w, h) in layout.items()}


def _mask_of(out: Path, name: str) -> Path:
    return out / Path(name).parent / f"{Path(name).stem}_mask.png"


@pytest.mark.slow
def test_a_folder_is_segmented_recursively_and_a_rerun_skips_what_is_done(triton_server, tmp_path):
    shapes = _tree(tmp_path / "photos")
    out = tmp_path / "photos" / "masks"  # inside the input folder: a rerun must not take masks for photos
    result = _run("segment", str(tmp_path / "photos"), "-o", str(out), "--url", triton_server.grpc_url)
    assert result.returncode == 0, result.stderr
    assert f"4 of 4 images segmented into {out}" in result.stdout
    for name, shape in shapes.items():  # sub-paths kept: the two a.jpg do not collide
        assert cv2.imread(str(_mask_of(out, name)), cv2.IMREAD_UNCHANGED).shape == shape
        assert _mask_of(out, name).with_name(f"{Path(name).stem}_overlay.jpg").exists()
    assert not (out / ".hidden").exists() and not list(out.rglob(".*"))  # no hidden inputs, no partial files

    _mask_of(out, "sub/a.jpg").unlink()  # as if the first run had stopped before it
    kept = {name: _mask_of(out, name).stat().st_mtime_ns for name in shapes if name != "sub/a.jpg"}
    result = _run("segment", str(tmp_path / "photos"), "-o", str(out), "--url", triton_server.grpc_url,
                  "--skip-existing")
    assert result.returncode == 0, result.stderr
    assert f"1 of 1 images segmented into {out}; 3 skipped, their masks already there" in result.stdout
    assert cv2.imread(str(_mask_of(out, "sub/a.jpg")), cv2.IMREAD_UNCHANGED).shape == shapes["sub/a.jpg"]
    assert {name: _mask_of(out, name).stat().st_mtime_ns for name in kept} == kept


@pytest.mark.slow
def test_bad_files_in_a_folder_fail_alone_and_are_named(triton_server, tmp_path):
    folder = tmp_path / "in"
    good = samples.write_images(folder, sizes=((200, 100),))[0]
    (folder / "sub").mkdir()
    (folder / "sub" / "broken.jpg").write_bytes(good.read_bytes()[:200])
    (folder / "report.PNG").write_bytes(b"%PDF-1.4\n" + bytes(300))
    result = _run("segment", str(folder), "-o", str(tmp_path / "out"), "--url", triton_server.grpc_url)
    assert result.returncode == 1
    assert re.search(r"FAILED \S*sub/broken\.jpg: .*could not be decoded", result.stdout), result.stdout
    assert re.search(r"FAILED \S*report\.PNG: .*not a JPEG, PNG, BMP or WebP file", result.stdout), result.stdout
    assert "1 of 3 images segmented" in result.stdout
    assert cv2.imread(str(tmp_path / "out" / f"{good.stem}_mask.png")).shape[:2] == (100, 200)


def test_missing_paths_and_empty_folders_are_named_before_any_work(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "notes.txt").write_text("no image here")
    result = _run("segment", str(tmp_path / "nowhere.jpg"), str(tmp_path / "empty"), "-o", str(tmp_path / "out"),
                  "--url", "127.0.0.1:1")
    assert result.returncode == 1
    assert f"no such file or folder: {tmp_path / 'nowhere.jpg'}" in result.stderr
    assert f"no images (.jpg .jpeg .png .bmp .webp) in folder {tmp_path / 'empty'}" in result.stderr
    assert not (tmp_path / "out").exists()


def test_two_inputs_that_would_write_the_same_mask_are_refused(tmp_path):
    for folder in ("day", "night"):
        samples.write_images(tmp_path / folder, sizes=((64, 48),))
    first, second = tmp_path / "day" / "scene_0_64x48.jpg", tmp_path / "night" / "scene_0_64x48.jpg"
    result = _run("segment", str(first), str(second), "-o", str(tmp_path / "out"), "--url", "127.0.0.1:1")
    assert result.returncode == 1
    assert f"{first} and {second} would both write {tmp_path / 'out' / 'scene_0_64x48_mask.png'}" in result.stderr


# -- skyseg video: sources --------------------------------------------------------------------------
def test_video_sources_are_parsed_without_mangling_urls(tmp_path):
    assert sources.video_source("rtsp://cam/stream") == "rtsp://cam/stream"
    assert sources.video_source("http://user:secret@cam:8080/video.mjpg") == "http://user:secret@cam:8080/video.mjpg"
    assert sources.video_source("0") == 0 and sources.video_source("12") == 12
    assert sources.describe("rtsp://user:secret@cam/live") == "stream rtsp://***@cam/live"  # no password in logs
    with pytest.raises(sources.InputError, match="no such video file: .*absent.mp4"):
        sources.video_source(str(tmp_path / "absent.mp4"))


def test_unopenable_video_sources_are_named(tmp_path):
    result = _run("video", str(tmp_path / "absent.mp4"), "-o", str(tmp_path / "o.mp4"), "--url", "127.0.0.1:1")
    assert result.returncode == 1 and f"no such video file: {tmp_path / 'absent.mp4'}" in result.stderr
    result = _run("video", "97", "-o", str(tmp_path / "o.mp4"), "--url", "127.0.0.1:1")
    assert result.returncode == 1 and "cannot open camera 97" in result.stderr
    with MjpegStream() as stream:
        port = stream.server.server_address[1]
    result = _run("video", f"http://127.0.0.1:{port}/gone.mjpg", "-o", str(tmp_path / "o.mp4"), "--url", "127.0.0.1:1")
    assert result.returncode == 1 and f"cannot open stream http://127.0.0.1:{port}/gone.mjpg" in result.stderr


@pytest.mark.slow
def test_a_live_http_stream_is_segmented_up_to_max_frames(triton_server, tmp_path):
    out = tmp_path / "live.mp4"
    with MjpegStream() as stream:
        result = _run("video", stream.url, "-o", str(out), "--url", triton_server.grpc_url,
                      "--max-frames", "40", "--fps", "10")
    assert result.returncode == 0, result.stderr
    assert "40 frames in" in result.stdout and str(out) in result.stdout
    assert _video_frames(out) == 40
    assert cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FPS) == pytest.approx(10, abs=0.01)


@pytest.mark.slow
def test_seconds_bound_a_live_run(triton_server, tmp_path):
    out = tmp_path / "live.mp4"
    with MjpegStream(fps=20) as stream:
        start = time.monotonic()
        result = _run("video", stream.url, "-o", str(out), "--url", triton_server.grpc_url, "--seconds", "2")
        took = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    written = int(re.search(r"(\d+) frames in", result.stdout).group(1))
    assert 10 <= written <= 60 and _video_frames(out) == written
    assert took < 20


@pytest.mark.slow
def test_a_dropped_stream_is_reconnected_and_the_run_continues(triton_server, tmp_path):
    out = tmp_path / "live.mp4"
    with MjpegStream(first=15) as stream:
        result = _run("video", stream.url, "-o", str(out), "--url", triton_server.grpc_url,
                      "--max-frames", "40", "--reconnect-seconds", "20")
        connections = stream.connections
    assert result.returncode == 0, result.stderr
    assert connections >= 2
    assert f"stream {stream.url} dropped after 15 frames; reconnecting for up to 20 s" in result.stderr
    assert "reconnect attempt 1" in result.stderr and "is back after" in result.stderr
    assert _video_frames(out) == 40


@pytest.mark.slow
def test_a_stream_that_never_comes_back_fails_within_the_reconnect_time(triton_server, tmp_path):
    out = tmp_path / "live.mp4"
    with MjpegStream(first=15, then="vanish") as stream:
        start = time.monotonic()
        result = _run("video", stream.url, "-o", str(out), "--url", triton_server.grpc_url, "--reconnect-seconds", "3")
        took = time.monotonic() - start
    assert result.returncode == 1
    assert (f"skyseg video: error: stream {stream.url} dropped after 15 frames and did not come back within 3 s"
            in result.stderr), result.stderr
    assert len(re.findall(r"reconnect attempt \d+", result.stderr)) >= 3  # with backoff: 0, 0.5, 1.5 s, ...
    assert took < 3 + 15  # the drop comes 15 frames (0.3 s) in, after the client's start
    assert "15 frames in" in result.stdout  # the frames read before the drop are all written
    assert _video_frames(out) == 15


def _start_video(url: str, out: Path, server_url: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([*SKYSEG, "video", url, "-o", str(out), "--url", server_url, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _interrupt(process: subprocess.Popen, ready, presses: int = 1, timeout: float = 60) -> tuple[str, str, float]:
    """Once ``ready()``, Ctrl-C ``presses`` times; (stdout, stderr, seconds from the first press to the exit)."""
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None and not ready():
            time.sleep(0.1)
        assert process.poll() is None, process.communicate()
        pressed = time.monotonic()
        for _ in range(presses):
            process.send_signal(signal.SIGINT)
            time.sleep(0.3)
        stdout, stderr = process.communicate(timeout=30)
        return stdout, stderr, time.monotonic() - pressed
    finally:
        if process.poll() is None:
            process.kill()


def _written(stdout: str, out: Path) -> int:
    match = re.search(r"interrupted: (\d+) frames in .* -> (.*)", stdout)
    assert match and match.group(2) == str(out), stdout
    return int(match.group(1))


@pytest.mark.slow
def test_ctrl_c_finishes_the_frames_in_flight_and_leaves_a_playable_video(triton_server, tmp_path):
    out, masks = tmp_path / "live.mp4", tmp_path / "masks"
    with MjpegStream(fps=25) as stream:
        process = _start_video(stream.url, out, triton_server.grpc_url, "--masks-dir", str(masks))
        stdout, stderr, took = _interrupt(process, lambda: masks.exists() and len(os.listdir(masks)) >= 10)
    assert process.returncode == 130, stderr
    assert "stopping: finishing the frames in flight" in stderr and "Traceback" not in stderr
    written = _written(stdout, out)
    assert written >= 10 and took < 10
    assert _video_frames(out) == written == len(os.listdir(masks))  # the mp4 was finished: every frame plays


@pytest.mark.slow
def test_ctrl_c_during_a_reconnect_stops_at_once(triton_server, tmp_path):
    out = tmp_path / "live.mp4"
    with MjpegStream(first=15, then="vanish") as stream:
        process = _start_video(stream.url, out, triton_server.grpc_url, "--reconnect-seconds", "120")
        stream.gone.wait(60)
        time.sleep(1.5)  # the client has read the 15 frames and is between reconnect attempts
        stdout, stderr, took = _interrupt(process, lambda: True)
    assert process.returncode == 130, stderr
    assert "reconnecting for up to 120 s" in stderr and took < 10
    assert _written(stdout, out) == 15 == _video_frames(out)


@pytest.mark.slow
def test_a_second_ctrl_c_stops_a_stalled_stream_at_once(triton_server, tmp_path):
    out, masks = tmp_path / "live.mp4", tmp_path / "masks"
    with MjpegStream(first=15, then="stall") as stream:
        process = _start_video(stream.url, out, triton_server.grpc_url, "--masks-dir", str(masks))
        # after the 15th frame the reader waits up to sources.READ_TIMEOUT_S (10 s) for the next one, and the
        # first Ctrl-C cannot end that wait sooner (it would take ~8 s here)
        # (frames still in flight wait for the next frame, so fewer than 15 masks are written by then)
        stdout, stderr, took = _interrupt(process, lambda: masks.exists() and len(os.listdir(masks)) >= 1 and
                                          time.sleep(1.5) is None, presses=2)
    assert process.returncode == 130, stderr
    assert took < 4
    written = _written(stdout, out)
    assert 0 < written <= 15 and _video_frames(out) == written
