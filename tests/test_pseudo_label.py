"""Teacher labels: the real teacher ONNX model over real photos, its cache, and the label rules."""
import shutil

import cv2
import numpy as np
import pytest

from skyseg.train import convert_data, pseudo_label
from skyseg.labels import IGNORE, NOT_SKY, SKY

from conftest import SHARED_DATA

TEACHER = SHARED_DATA.parent / "teachers" / "sky_u2netp" / "sky_u2netp.onnx"


@pytest.fixture(scope="module")
def teacher():
    if not TEACHER.exists():
        pytest.skip(f"real-teacher test: {TEACHER} is absent (../shared/teachers)")
    return TEACHER


def test_confident_pixels_only_and_sky_only_where_sky_can_be():
    prob = np.zeros((100, 40), np.uint8)
    prob[:30] = 250            # a sky at the top: kept
    prob[30:40] = 128          # unsure: ignored
    prob[60:70, :10] = 250     # a "sky" region starting below half the height (surf, snow): ignored
    labels = convert_data.pseudo_labels(prob)
    assert (labels[:30] == SKY).all() and (labels[30:40] == IGNORE).all()
    assert (labels[60:70, :10] == IGNORE).all() and (labels[60:70, 10:] == NOT_SKY).all()


def test_teacher_sky_in_the_bottom_fifth_is_ignored_even_when_it_reaches_the_top():
    prob = np.full((100, 40), 250, np.uint8)  # the teacher calls the whole frame sky (sea into haze)
    labels = convert_data.pseudo_labels(prob)
    assert (labels[:80] == SKY).all() and (labels[80:] == IGNORE).all()


def test_teacher_labels_are_written_resumed_and_scored(teacher, shared_data, tmp_path):
    """The real teacher on four ADE20K photos: a probability and a confidence map at each image's own
    size; a rerun labels nothing again; the labels score as the teacher's README says (>= 90 IoU)."""
    folder = tmp_path / "photos"
    masks = tmp_path / "masks"
    folder.mkdir()
    masks.mkdir()
    for image in sorted((shared_data / "ade20k_sky" / "dev" / "images").glob("*.jpg"))[:4]:
        shutil.copy(image, folder)
        soft = cv2.imread(str(shared_data / "ade20k_sky" / "dev" / "masks" / f"{image.stem}.png"), cv2.IMREAD_GRAYSCALE)
        cv2.imwrite(str(masks / f"{image.stem}.png"), convert_data.binary_mask_labels(soft))
    out = tmp_path / "pseudo"
    assert pseudo_label.label_folders(teacher, [folder], out, batch=2)["labelled"] == 4
    for image in folder.glob("*.jpg"):
        prob = cv2.imread(str(out / "prob" / "photos" / f"{image.stem}.png"), cv2.IMREAD_GRAYSCALE)
        confidence = cv2.imread(str(out / "confidence" / "photos" / f"{image.stem}.png"), cv2.IMREAD_GRAYSCALE)
        assert prob.shape == confidence.shape == cv2.imread(str(image)).shape[:2]
        assert np.abs(np.abs(2 * prob.astype(int) - 255) - confidence.astype(int)).max() <= 2
    assert pseudo_label.label_folders(teacher, [folder], out)["skipped (already labelled)"] == 4
    assert pseudo_label.score_against_labels(out / "prob", masks).iou > 0.9


def test_labels_of_another_teacher_are_not_mixed_in(teacher, tmp_path):
    out = tmp_path / "pseudo"
    (tmp_path / "photos").mkdir()
    pseudo_label.label_folders(teacher, [tmp_path / "photos"], out)
    other = tmp_path / "other.onnx"
    other.write_bytes(teacher.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="holds labels of another teacher"):
        pseudo_label.label_folders(other, [tmp_path / "photos"], out)


def test_soft_labels_keep_the_teachers_probability_and_its_unsure_band():
    """The soft split's mask is p(sky) * SOFT_SCALE wherever the hard one is not ignored for where
    it is: the 0.3-0.7 band becomes a target instead of being ignored."""
    from skyseg.labels import SOFT_SCALE

    prob = np.zeros((100, 40), np.uint8)
    prob[:30] = 255
    prob[30:40] = 128
    prob[60:70, :10] = 250     # misplaced sky (starts below half the height): ignored in both
    prob[85:, :5] = 200        # sky in the bottom fifth: ignored in both
    soft = convert_data.soft_pseudo_labels(prob)
    hard = convert_data.pseudo_labels(prob)
    assert (soft[:30] == SOFT_SCALE).all() and (soft[30:40] == round(128 / 255 * SOFT_SCALE)).all()
    assert (hard[30:40] == IGNORE).all()
    assert (soft[60:70, :10] == IGNORE).all() and (soft[85:, :5] == IGNORE).all()
    assert (soft[40:60] == 0).all() and (soft[85:, 5:] == 0).all()
    assert ((hard == IGNORE) | (soft != IGNORE)).all()  # soft ignores nothing the hard labels keep
