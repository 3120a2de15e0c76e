"""Raw frames through system shared memory: the same masks as over the socket, and no leftovers."""
import numpy as np
import pytest

from skyseg.samples import render_scene


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_shared_memory_frames_give_the_socket_masks_and_clean_up(triton_server, protocol):
    import tritonclient.grpc as grpcclient
    from skyseg_client import SkySegClient

    url = triton_server.grpc_url if protocol == "grpc" else triton_server.http_url
    small = [render_scene(320, 240, seed) for seed in range(5)]
    large = [render_scene(640, 360, seed) for seed in range(5, 11)]  # a size change rebuilds the ring
    frames = small + large
    with SkySegClient(url, protocol=protocol, max_in_flight=3) as plain:
        expected = plain.segment_many(frames)
    with SkySegClient(url, protocol=protocol, max_in_flight=3, shared_memory=True) as client:
        got = [mask for _, mask in client.segment_video(iter(frames))]
        status = grpcclient.InferenceServerClient(triton_server.grpc_url).get_system_shared_memory_status()
        assert len(status.regions) == 2 * 4  # frame + mask for max_in_flight + 1 slots; the old size retired
    for a, b in zip(expected, got, strict=True):
        assert a.shape == b.shape and np.array_equal(a, b)
    assert any(m.any() for m in got) and any((m == 0).any() for m in got)
    status = grpcclient.InferenceServerClient(triton_server.grpc_url).get_system_shared_memory_status()
    assert len(status.regions) == 0  # close() unregistered every region


def test_shared_memory_refuses_several_servers():
    from skyseg_client import SkySegClient

    with pytest.raises(ValueError, match="one server"):
        SkySegClient("127.0.0.1:1,127.0.0.1:2", shared_memory=True)


def test_one_shared_memory_client_serves_threads_sending_different_frame_sizes(triton_server):
    """Several cameras through one client: each thread's frames keep their own size and masks."""
    import threading

    import tritonclient.grpc as grpcclient
    from skyseg_client import SkySegClient

    sizes = [(320, 240), (640, 360), (480, 480), (200, 300)]
    streams = [[render_scene(w, h, seed=10 * n + i) for i in range(6)] for n, (w, h) in enumerate(sizes)]
    with SkySegClient(triton_server.grpc_url, max_in_flight=4) as plain:
        expected = [plain.segment_many(frames) for frames in streams]
    got: list = [None] * len(streams)
    errors: list = []
    with SkySegClient(triton_server.grpc_url, max_in_flight=4, shared_memory=True) as client:
        def camera(n: int) -> None:
            try:
                got[n] = [client.segment(frame) for frame in streams[n] for _ in range(3)][::3]
            except Exception as exc:  # noqa: BLE001 - reported below with its stream
                errors.append(f"stream {n}: {exc!r}")

        threads = [threading.Thread(target=camera, args=(n,)) for n in range(len(streams))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    for want, have in zip(expected, got, strict=True):
        for a, b in zip(want, have, strict=True):
            assert a.shape == b.shape and np.array_equal(a, b)
    status = grpcclient.InferenceServerClient(triton_server.grpc_url).get_system_shared_memory_status()
    assert len(status.regions) == 0
