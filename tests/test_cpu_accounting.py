"""Per-process CPU accounting through the real server: every step of the ensemble owns some CPU."""
import pytest

pytestmark = pytest.mark.slow


def test_every_step_owns_cpu_and_the_total_fits_the_cores(triton_server):
    from benchmarks.common.images import load_images
    from benchmarks.cpu_accounting import account, render

    images, _ = load_images("/nonexistent/*.jpg", count=4, resize=(640, 360))
    result = account(triton_server.grpc_url, triton_server.process.pid, images, in_flight=2, seconds=3)
    rows = result["core_ms_per_request"]
    for step in ("tritonserver", "preprocess", "bisenetv2", "postprocess", "client (this process)"):
        assert rows[step] > 0, step
    # CPU time cannot exceed what the cores offered in that wall time (clock-tick rounding aside).
    assert result["total_core_ms"] <= 1.05 * result["available_core_ms"] + 1.0
    assert "| **total**" in render(result, "640x360")
    assert set(result["avg_batch"]) >= {"preprocess", "bisenetv2", "postprocess"}
    assert all(batch >= 1.0 for batch in result["avg_batch"].values())


def test_client_pipelining_measures_both_clients_on_the_same_server(triton_server):
    from benchmarks.client_pipelining import segment_many_rate, threads_rate
    from benchmarks.common.images import load_images

    images, _ = load_images("/nonexistent/*.jpg", count=4, resize=(640, 360))
    for measure in (segment_many_rate, threads_rate):
        rate, client_ms = measure(triton_server.grpc_url, images, 2, 2.0)
        assert rate > 0 and client_ms > 0, measure.__name__
