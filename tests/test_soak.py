"""A short soak through the real server (the 5-minute version is benchmarks/soak.py)."""
import pytest

pytestmark = pytest.mark.slow


def test_short_soak_has_no_errors_and_reports_every_process(triton_server):
    from benchmarks.soak import load_images, report, soak

    images, _ = load_images("/nonexistent/*.jpg", count=4)
    result = soak(triton_server.grpc_url, triton_server.process.pid, images, concurrency=4, seconds=6, warmup_s=2)
    assert result["errors"] == 0 and result["requests_ok"] > 0
    names = " ".join(result["rss_kib_start"])
    for process in ("tritonserver", "preprocess", "bisenetv2", "postprocess"):
        assert process in names
    assert all(kib > 0 for kib in result["rss_kib_end"].values())
    assert "| all |" in report(result)
    assert triton_server.is_ready()
