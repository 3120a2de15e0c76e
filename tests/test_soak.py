"""A short soak through the real server (the 5-minute version is benchmarks/soak.py)."""
import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("shared_memory", [False, True], ids=["jpeg", "shared-memory"])
def test_short_soak_refuses_bad_uploads_alone_and_reports_every_process(triton_server, tmp_path, shared_memory):
    from benchmarks.common.images import images_at_sizes
    from benchmarks.soak import plot_memory, report, soak

    images, _ = images_at_sizes("/nonexistent/*.jpg", count=6, sizes=("native", "960x540"))
    result = soak(triton_server.grpc_url, triton_server.process.pid, images, concurrency=4, seconds=6,
                  warmup_s=2, bad_every=3, sample_s=2, shared_memory=shared_memory)
    assert result["regions_left_registered"] == 0
    assert result["errors"] == 0 and result["requests_ok"] > 0
    assert result["refused"] > 0 and result["wrong_refusals"] == 0, result["first_wrong_refusals"]
    assert result["masks_changed_under_load"] == 0, result["worst_changed_fraction"]
    names = " ".join(result["rss_kib_start"])
    for process in ("tritonserver", "preprocess", "bisenetv2", "postprocess"):
        assert process in names
    assert all(kib > 0 for kib in result["rss_kib_end"].values())
    assert "| all |" in report(result) and "refused naming the problem" in report(result)
    assert len(result["rss_kib_timeline"]) >= 3 and result["rss_growth_second_half_pct"].keys() == result["rss_kib_start"].keys()
    plot_memory(result, tmp_path / "soak.png")
    assert (tmp_path / "soak.png").read_bytes()[:4] == b"\x89PNG"
    assert triton_server.is_ready()


def test_interleave_rotates_through_every_kind_of_bad_upload():
    from benchmarks.soak import Request, interleave

    goods = [Request(f"g{i}", b"\xff\xd8" + bytes(30)) for i in range(5)]
    schedule = interleave(goods, bad_every=4, jpeg=goods[0].payload)
    bads = [r for r in schedule if r.refusal is not None]
    assert len({r.label for r in bads}) == 4  # empty, truncated, not an image, bomb
    assert all(schedule[i].refusal is not None for i in range(3, len(schedule), 4))
    assert interleave(goods, 0, b"") == goods
    with pytest.raises(ValueError, match="at least 2"):
        interleave(goods, 1, b"")
