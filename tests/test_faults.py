"""Faults: dead servers, several servers, and a server restarted in the middle of a video."""
import threading
import time

import cv2
import numpy as np
import pytest

from skyseg import samples
from skyseg.serving import DEFAULT_REPOSITORY, TritonServer, free_port

pytestmark = pytest.mark.slow


def _server(tmp_path, name: str, ports=None) -> TritonServer:
    http, grpc, metrics = ports or (free_port(), free_port(), free_port())
    return TritonServer(DEFAULT_REPOSITORY, http_port=http, grpc_port=grpc, metrics_port=metrics,
                        log_file=tmp_path / f"{name}.log")


def _jpeg(seed: int) -> bytes:
    return cv2.imencode(".jpg", samples.render_scene(160, 120, seed=seed))[1].tobytes()


def test_requests_fail_over_from_a_dead_server(triton_server):
    from skyseg_client import SkySegClient

    dead = f"127.0.0.1:{free_port()}"
    with SkySegClient([dead, triton_server.grpc_url], retry_deadline_s=20) as client:
        masks = client.segment_many([_jpeg(i) for i in range(6)])
    assert [m.shape for m in masks] == [(120, 160)] * 6


def test_work_is_spread_over_several_servers(triton_server, tmp_path):
    import tritonclient.grpc as grpcclient

    from skyseg_client import SkySegClient

    def served(url: str) -> int:
        stats = grpcclient.InferenceServerClient(url).get_inference_statistics("sky_segmentation")
        return stats.model_stats[0].inference_count

    with _server(tmp_path, "second") as second:
        before = {u: served(u) for u in (triton_server.grpc_url, second.grpc_url)}
        with SkySegClient(f"{triton_server.grpc_url},{second.grpc_url}") as client:
            client.segment_many([_jpeg(i) for i in range(8)])
        deadline = time.monotonic() + 10  # Triton counts an ensemble request just after answering it
        while sum(served(u) - before[u] for u in before) < 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert {u: served(u) - before[u] for u in before} == {u: 4 for u in before}  # round robin


def test_video_survives_a_server_restart_with_every_frame_once_in_order(tmp_path):
    from skyseg_client import SkySegClient

    path = samples.write_video(tmp_path / "pan.mp4", frames=40, size=(320, 180))
    ports = (free_port(), free_port(), free_port())
    server = _server(tmp_path, "first", ports).start()
    restarted = []

    def restart():
        server.stop()  # frames in flight fail with UNAVAILABLE and are sent again
        restarted.append(_server(tmp_path, "second", ports).start())

    results, thread = [], None
    try:
        with SkySegClient(server.grpc_url, max_in_flight=4, retry_deadline_s=60) as client:
            for index, (frame, mask) in enumerate(client.segment_video(path)):
                results.append((frame, mask))
                if index == 10:
                    thread = threading.Thread(target=restart)
                    thread.start()
    finally:
        if thread is not None:
            thread.join()  # a failing run must not leave the restarted server behind
        server.stop()
        for s in restarted:
            s.stop()
    assert restarted, "the server was never restarted"
    capture = cv2.VideoCapture(str(path))
    assert len(results) == 40
    for frame, mask in results:
        ok, expected = capture.read()
        assert ok and np.array_equal(frame, expected) and mask.shape == (180, 320)
