"""benchmarks.video_sky: the cloud check on a real video, through the served ops in ONNX Runtime."""
import json

import pytest

from benchmarks import video_sky

from conftest import SHARED_DATA

VIDEO = SHARED_DATA / "videos" / "field_annarbor.mp4"


@pytest.fixture(scope="module")
def field_video():
    if not VIDEO.exists():
        pytest.skip(f"real-video test: {VIDEO} is absent")
    return VIDEO


def test_the_same_network_loses_no_sky_and_an_all_sky_threshold_is_caught(field_video, tmp_path):
    out = tmp_path / "same"
    assert video_sky.main(["--candidate", str(video_sky.DEFAULT_BASELINE), "--videos", str(field_video),
                           "--every", "60", "--out", str(out)]) == 0
    result = json.loads((out / "video_sky.json").read_text())[0]
    assert result["frames"] >= 3 and result["lost_pct_max"] == 0.0 and result["baseline_sky_pct"] > 30
    assert (out / "field_annarbor_sky.png").exists()
    # a negative tolerance cannot be met even by the same network: the check can fail
    assert video_sky.main(["--candidate", str(video_sky.DEFAULT_BASELINE), "--videos", str(field_video),
                           "--every", "60", "--tolerance", "-1", "--out", str(tmp_path / "strict")]) == 1


def test_missing_videos_are_skipped_with_the_reason(tmp_path, capsys):
    assert video_sky.main(["--candidate", "x.onnx", "--videos", str(tmp_path / "absent.mp4")]) == 0
    assert "skipped: videos not found" in capsys.readouterr().out
