"""Hard-negative mining (train/mine_negatives.py) with the embedded model in ONNX Runtime."""
import json

import cv2
import numpy as np
import pytest

from skyseg import samples
from skyseg.assets import DEFAULT_ONNX
from skyseg.contract import Contract
from skyseg_client.cli import main
from skyseg.train.mine_negatives import mine


@pytest.fixture
def data_root(tmp_path, write_pair):
    """Two sky-free scenes, one of which the model takes for sky, and one photo with labelled sky."""
    sky_like, sky = samples.render_labeled_scene(256, 192, seed=3)
    zeros = np.zeros(sky.shape, np.uint8)
    write_pair(tmp_path, "indoor", "pale", sky_like, zeros)  # what a pale wall is to the network
    rng = np.random.default_rng(0)
    dark = rng.integers(0, 60, (192, 256, 3), dtype=np.uint8)
    write_pair(tmp_path, "indoor", "dark", dark, zeros)
    write_pair(tmp_path, "outdoor", "photo", sky_like, sky)
    return tmp_path


def test_the_sky_free_scene_the_model_takes_for_sky_is_mined_first(data_root):
    ranked = mine(DEFAULT_ONNX, Contract.from_onnx(DEFAULT_ONNX), data_root, ["indoor", "outdoor"],
                  "hard", top=1, threads=1)
    assert [(n.split, n.stem) for n in ranked] == [("indoor", "pale"), ("indoor", "dark")]  # no labelled sky
    assert ranked[0].false_sky > 0.2 and ranked[0].peak > 0.9
    assert ranked[1].false_sky < 0.05
    assert sorted(p.name for p in (data_root / "hard").rglob("*.*")) == ["mined.json", "pale.jpg", "pale.png"]
    label = cv2.imread(str(data_root / "hard" / "masks" / "pale.png"), cv2.IMREAD_UNCHANGED)
    assert not label.any()  # the human label travels with the image: still no sky
    record = json.loads((data_root / "hard" / "mined.json").read_text())
    assert record["model"] == str(DEFAULT_ONNX) and len(record["model_sha256"]) == 64
    assert [n["stem"] for n in record["chosen"]] == ["pale"] and len(record["ranked"]) == 2


def test_mining_again_replaces_the_split(data_root):
    contract = Contract.from_onnx(DEFAULT_ONNX)
    mine(DEFAULT_ONNX, contract, data_root, ["indoor"], "hard", top=2, threads=1)
    mine(DEFAULT_ONNX, contract, data_root, ["indoor"], "hard", top=1, threads=1)
    assert sorted(p.name for p in (data_root / "hard" / "images").iterdir()) == ["pale.jpg"]


@pytest.mark.parametrize("splits,name,top,problem", [
    (["indoor"], "hard", 0, "--top must be at least 1"),
    (["indoor"], "indoor", 4, "cannot also be a split it is mined from"),
    (["outdoor"], "hard", 4, "no sky-free images in outdoor"),
    (["indoor", "ade20k_sky_heldout"], "hard", 4, "ade20k_sky_heldout is held out for evaluation"),
    (["camvid_test"], "hard", 4, "camvid_test is held out for evaluation"),
])
def test_bad_requests_name_the_problem(data_root, splits, name, top, problem):
    with pytest.raises(ValueError, match=problem):
        mine(DEFAULT_ONNX, Contract.from_onnx(DEFAULT_ONNX), data_root, splits, name, top, threads=1)


def test_the_command_writes_the_split_and_names_what_it_chose(data_root, capsys):
    assert main(["mine-negatives", "--data-root", str(data_root), "--splits", "indoor", "--out", "hard",
                 "--top", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 sky-free images of indoor; the 1 with the largest false sky" in out
    assert "pale" in out and "dark" not in out
    assert (data_root / "hard" / "images" / "pale.jpg").is_file()


def test_the_command_turns_a_bad_request_into_one_line(data_root, capsys):
    assert main(["mine-negatives", "--data-root", str(data_root), "--splits", "outdoor", "--threads", "1"]) == 1
    assert "skyseg mine-negatives: error: no sky-free images in outdoor" in capsys.readouterr().err


def test_a_kept_record_rebuilds_the_split_without_the_model(data_root, capsys):
    mine(DEFAULT_ONNX, Contract.from_onnx(DEFAULT_ONNX), data_root, ["indoor"], "hard", top=1, threads=1)
    record = data_root / "kept.json"
    record.write_text((data_root / "hard" / "mined.json").read_text())
    assert main(["mine-negatives", "--data-root", str(data_root), "--replay", str(record), "--out", "again"]) == 0
    assert "1 images of" in capsys.readouterr().out
    assert sorted(p.name for p in (data_root / "again" / "images").iterdir()) == ["pale.jpg"]
    assert json.loads((data_root / "again" / "mined.json").read_text())["replayed_from"] == str(record)


def test_replaying_a_record_whose_images_are_gone_names_them(data_root, capsys):
    record = data_root / "kept.json"
    record.write_text(json.dumps({"chosen": [{"split": "indoor", "stem": "gone"}]}))
    assert main(["mine-positives", "--data-root", str(data_root), "--replay", str(record)]) == 1
    err = capsys.readouterr().err
    assert "1 images of" in err and "indoor/gone" in err and "skyseg prepare-data" in err


def test_replaying_a_record_that_chooses_nothing_says_so(data_root, capsys):
    record = data_root / "kept.json"
    record.write_text(json.dumps({"chosen": []}))
    assert main(["mine-negatives", "--data-root", str(data_root), "--replay", str(record)]) == 1
    assert "chooses no images" in capsys.readouterr().err
