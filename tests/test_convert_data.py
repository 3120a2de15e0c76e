"""The three source layouts become one format with the right labels."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from skyseg.train import convert_data
from skyseg.labels import IGNORE, NOT_SKY, SKY


def _image(path: Path, h=24, w=32, seed=0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8))
    return path


def _label(path: Path, values: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), values.astype(np.uint8))
    return path


def _read(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_binary_folder_soft_masks_threshold_at_128(tmp_path):
    soft = np.array([[0, 127, 128, 255]] * 4)
    _image(tmp_path / "src/images/a.jpg", 4, 4)
    _label(tmp_path / "src/masks/a.png", soft)
    counts = convert_data.convert_binary_folder(tmp_path / "src/images", tmp_path / "src/masks",
                                                tmp_path / "out", "folder")
    assert counts == {"folder": 1}
    assert _read(tmp_path / "out/folder/masks/a.png")[0].tolist() == [NOT_SKY, NOT_SKY, SKY, SKY]
    assert (tmp_path / "out/folder/images/a.jpg").read_bytes() == (tmp_path / "src/images/a.jpg").read_bytes()


def test_camvid_sky_is_zero_and_eleven_is_ignored(tmp_path):
    _image(tmp_path / "camvid/test/x.png", 2, 3)
    _label(tmp_path / "camvid/testannot/x.png", np.array([[0, 1, 11], [5, 0, 10]]))
    convert_data.convert_camvid(tmp_path / "camvid", tmp_path / "out", splits=["test"])
    assert _read(tmp_path / "out/camvid_test/masks/x.png").tolist() == [[SKY, NOT_SKY, IGNORE],
                                                                        [NOT_SKY, SKY, NOT_SKY]]
    assert _read(tmp_path / "out/camvid_test/images/x.jpg").shape == (2, 3, 3)  # PNG re-encoded


def test_raw_cityscapes_layout(tmp_path):
    root = tmp_path / "cityscapes"
    _image(root / "leftImg8bit/val/aachen/aachen_000000_000019_leftImg8bit.png", 2, 3)
    _label(root / "gtFine/val/aachen/aachen_000000_000019_gtFine_labelIds.png",
           np.array([[23, 7, 0], [3, 23, 26]]))
    assert convert_data.convert_cityscapes(root, tmp_path / "out", splits=["val"]) == {"cityscapes_val": 1}
    mask = _read(tmp_path / "out/cityscapes_val/masks/aachen_000000_000019.png")
    assert mask.tolist() == [[SKY, NOT_SKY, IGNORE], [IGNORE, SKY, NOT_SKY]]


def test_ade20k_full_labels_sky_is_three_and_zero_is_ignored(tmp_path):
    """ADEChallengeData2016 layout; 0 ("other objects") is ignored as MMSeg's reduce_zero_label does."""
    root = tmp_path / "ADEChallengeData2016"
    _image(root / "images/validation/ADE_val_00000001.jpg", 2, 4)
    _label(root / "annotations/validation/ADE_val_00000001.png", np.array([[3, 1, 0, 3], [2, 150, 4, 3]]))
    counts = convert_data.convert_ade20k(root, tmp_path / "out", splits=["validation"])
    assert counts == {"ade20k_validation": 1}
    assert _read(tmp_path / "out/ade20k_validation/masks/ADE_val_00000001.png").tolist() == [
        [SKY, NOT_SKY, IGNORE, SKY], [NOT_SKY, NOT_SKY, NOT_SKY, SKY]]
    from skyseg.train import mmcompat

    mmcompat.setup()
    from mmseg.datasets import ADE20KDataset

    mmseg_classes = ADE20KDataset.METAINFO["classes"]
    assert mmseg_classes[convert_data.ADE20K_SKY - 1] == "sky"  # reduce_zero_label: raw 3 is MMSeg's index 2


def test_missing_label_is_an_error_not_a_silent_skip(tmp_path):
    _image(tmp_path / "src/images/a.jpg")
    (tmp_path / "src/masks").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no label"):
        convert_data.convert_binary_folder(tmp_path / "src/images", tmp_path / "src/masks", tmp_path / "o", "x")


def test_held_out_split_is_fixed_and_twenty_percent():
    stems = [f"img_{i:03d}" for i in range(100)]
    first = convert_data.held_out(stems)
    assert len(first) == 20
    assert convert_data.held_out(list(reversed(stems))) == first


def test_idd_lite_sky_is_six_void_is_ignored_and_stems_keep_the_sequence(tmp_path):
    root = tmp_path / "idd"
    for split in ("train", "val"):
        for seq in ("0", "1"):
            _image(root / "leftImg8bit" / split / seq / "024541_image.jpg")
            _label(root / "gtFine" / split / seq / "024541_label.png", np.array([[6, 0], [255, 3]]).repeat(12, 0).repeat(16, 1))
    counts = convert_data.convert_idd_lite(root, tmp_path / "out")
    assert counts == {"idd_train": 2, "idd_val": 2}
    labels = _read(tmp_path / "out" / "idd_train" / "masks" / "1_024541.png")
    assert labels[0, 0] == SKY and labels[0, -1] == NOT_SKY and labels[-1, 0] == IGNORE and labels[-1, -1] == NOT_SKY


def test_sky_free_scene_categories_are_labelled_not_sky_everywhere(tmp_path):
    _image(tmp_path / "indoor" / "library" / "a.jpg")
    assert convert_data.convert_no_sky(tmp_path / "indoor", tmp_path / "out", "sun_indoor") == {"sun_indoor": 1}
    assert (_read(tmp_path / "out" / "sun_indoor" / "masks" / "library_a.png") == NOT_SKY).all()


def test_teacher_photos_without_a_label_are_an_error_that_names_the_command(tmp_path):
    _image(tmp_path / "outdoor" / "ocean" / "a.jpg")
    with pytest.raises(FileNotFoundError, match="skyseg pseudo-label"):
        convert_data.convert_pseudo(tmp_path / "outdoor", tmp_path / "prob", tmp_path / "out", "sun_outdoor")


def test_prepare_writes_the_tennis_halls_sky_free_without_a_teacher(tmp_path):
    """The SUN "mixed" folder is indoor tennis halls: their teacher labels call ceilings sky, so
    prepare-data also writes them as a sky-free split, with or without teacher labels."""
    shared = tmp_path / "shared"
    for split in ("train", "val", "test"):
        _image(shared / "camvid" / split / "a.jpg", 4, 4)
        _label(shared / "camvid" / f"{split}annot" / "a.png", np.zeros((4, 4)))
    for name in ("cityscapes_sky", "ade20k_sky"):
        _image(shared / name / "train" / "images" / "a.jpg", 4, 4)
        _label(shared / name / "train" / "masks" / "a.png", np.zeros((4, 4)))
    _image(shared / "sun_unlabelled" / "indoor" / "library" / "a.jpg")
    _image(shared / "sun_unlabelled" / "mixed" / "tennis_court" / "b.jpg")
    counts = convert_data.prepare_shared(shared, tmp_path / "out", pseudo=None)
    assert counts["sun_mixed_skyfree"] == 1 and "sun_mixed" not in counts
    assert (_read(tmp_path / "out" / "sun_mixed_skyfree" / "masks" / "tennis_court_b.png") == NOT_SKY).all()
