"""benchmarks.matte: the measurement behind the replacement's matte default."""
import json
from pathlib import Path

import numpy as np
import pytest


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_the_true_alpha_scores_zero_and_a_shifted_edge_scores_worse_than_a_feathered_one():
    from benchmarks import matte

    truth = np.zeros((200, 300), np.float32)
    truth[:100] = 1.0
    truth[100:103] = np.linspace(0.75, 0.25, 3)[:, None]  # a soft edge, as ADE20K's masks have
    photo = np.full((200, 300, 3), 60, np.uint8)
    shifted = np.zeros_like(truth)
    shifted[:110] = 1.0
    scores = matte.score(photo, truth, {"truth": truth, "shifted": shifted,
                                        "shifted, feathered": matte._feather(shifted, 0.02)})
    assert scores["truth"] == (0.0, 0.0)
    assert 0 < scores["shifted, feathered"][0] < scores["shifted"][0]
    assert matte.band_of(truth)[101].all() and not matte.band_of(truth)[0].any()


@pytest.mark.skipif(not (SHARED / "ade20k_sky" / "train" / "masks").is_dir(),
                    reason="../shared/data/ade20k_sky (soft sky masks) is not here")
def test_the_benchmark_runs_on_the_soft_masks_and_reports_every_matte(tmp_path):
    from benchmarks import matte

    out = tmp_path / "matte.json"
    assert matte.main(["--sets", "ade20k_sky/train", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    found = result["summary"]["edge found"]
    assert result["counts"]["edge found"] > 10 and "served probability" in found
    assert all(0 < v["alpha_error"] < 0.5 for v in found.values())
