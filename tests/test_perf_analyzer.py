"""A short, bounded perf_analyzer run against the real server (speed targets live in benchmarks/)."""
import pytest

pytestmark = pytest.mark.slow


def test_short_perf_analyzer_sweep(triton_server):
    from benchmarks.perf_analyzer import load_images, run_sweep, table

    images, source = load_images("/nonexistent/*.jpg", count=4, resize=(320, 240))
    assert "GENERATED" in source  # said out loud when real images are absent
    (result,) = run_sweep(triton_server.grpc_url, images, concurrency=[2], interval_ms=1500,
                          max_trials=4, stability=50, timeout_s=180)
    assert result["concurrency"] == 2 and result["infer_per_s"] > 0
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert "| 2 |" in table([result])
