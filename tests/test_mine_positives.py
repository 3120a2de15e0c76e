"""Hard-positive mining (train/mine_positives.py) with the embedded model in ONNX Runtime."""
import json

import numpy as np
import pytest

from skyseg import samples
from skyseg.assets import DEFAULT_ONNX
from skyseg.contract import Contract
from skyseg.labels import IGNORE
from skyseg.train.mine_positives import mine, score
from skyseg.train.splits import read_stem_list
from skyseg_client.cli import main


@pytest.fixture
def data_root(tmp_path, write_pair):
    """A photo whose sky the model finds, one whose labelled sky it cannot see, and a sky-free one."""
    photo, sky = samples.render_labeled_scene(256, 192, seed=3)
    write_pair(tmp_path, "outdoor", "found", photo, sky)
    rng = np.random.default_rng(0)
    dark = rng.integers(0, 60, (192, 256, 3), dtype=np.uint8)
    top_half = np.zeros((192, 256), np.uint8)
    top_half[:96] = 1
    write_pair(tmp_path, "outdoor", "missed", dark, top_half)  # what a night sky is to the network
    write_pair(tmp_path, "outdoor", "indoor", dark, np.zeros((192, 256), np.uint8))
    return tmp_path


def test_the_sky_the_model_misses_is_mined_first(data_root):
    ranked = mine(DEFAULT_ONNX, Contract.from_onnx(DEFAULT_ONNX), data_root, ["outdoor"], "hard", top=1,
                  threads=1)
    assert [n.stem for n in ranked] == ["missed", "found"]  # the sky-free image is no candidate
    assert ranked[0].missed_sky > 0.4 and ranked[0].sky_share == pytest.approx(0.5, abs=0.05)
    assert ranked[1].missed_sky < 0.1
    assert sorted(p.name for p in (data_root / "hard").rglob("*.*")) == ["mined.json", "missed.jpg", "missed.png"]
    record = json.loads((data_root / "hard" / "mined.json").read_text())
    assert record["model"] == str(DEFAULT_ONNX) and record["excluded"] == []
    assert [n["stem"] for n in record["chosen"]] == ["missed"] and len(record["ranked"]) == 2


def test_ignored_pixels_count_for_neither_side():
    prob = np.zeros((4, 4), np.float32)
    label = np.full((4, 4), IGNORE, np.uint8)
    label[0] = 1  # 4 sky pixels, wholly missed
    label[1] = 0  # 4 ground pixels
    assert score(prob, label) == (pytest.approx(0.5), pytest.approx(0.5))
    assert score(prob, np.full((4, 4), IGNORE, np.uint8)) == (0.0, 0.0)


def test_a_reviewed_label_error_is_never_mined(data_root, tmp_path):
    reviewed = tmp_path / "errors.txt"
    reviewed.write_text("# reviewed\nmissed  # the label is wrong\n\n")
    assert read_stem_list(reviewed) == {"missed"}
    ranked = mine(DEFAULT_ONNX, Contract.from_onnx(DEFAULT_ONNX), data_root, ["outdoor"], "hard", top=1,
                  threads=1, exclude=read_stem_list(reviewed))
    assert [n.stem for n in ranked] == ["found"]
    assert json.loads((data_root / "hard" / "mined.json").read_text())["excluded"] == ["missed"]


@pytest.mark.parametrize("splits,name,top,min_sky,problem", [
    (["outdoor"], "hard", 0, 0.05, "--top must be at least 1"),
    (["outdoor"], "hard", 4, 1.5, "--min-sky is a share"),
    (["outdoor"], "outdoor", 4, 0.05, "cannot also be a split it is mined from"),
    (["outdoor", "ade20k_dev"], "hard", 4, 0.05, "ade20k_dev is held out for evaluation"),
    (["outdoor"], "hard", 4, 0.9, "no image of outdoor .* has 90% sky"),
])
def test_bad_requests_name_the_problem(data_root, splits, name, top, min_sky, problem):
    with pytest.raises(ValueError, match=problem):
        mine(DEFAULT_ONNX, Contract.from_onnx(DEFAULT_ONNX), data_root, splits, name, top, min_sky, threads=1)


def test_the_command_writes_the_split_and_names_what_it_chose(data_root, capsys):
    assert main(["mine-positives", "--data-root", str(data_root), "--splits", "outdoor", "--out", "hard",
                 "--top", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 images of outdoor with >= 5% sky; the 1 whose sky the model most misses" in out
    assert "missed" in out and "found" not in out
    assert (data_root / "hard" / "images" / "missed.jpg").is_file()
