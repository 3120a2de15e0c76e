"""The weighted mix of training splits (train/datasets.py) as a recipe config builds it."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from skyseg import samples
from skyseg.train.device_bundle import training_splits
from skyseg.train.runner import DEFAULT_CONFIG, load_config
from skyseg.train.splits import read_exclusions

STAGE2_CONFIG = DEFAULT_CONFIG.parent / "bisenetv2_fcn_1xb4-1.6k-ft_sky-384x512.py"
E11_CONFIG = DEFAULT_CONFIG.parent / "experiments" / "bisenetv2_fcn_1xb4-2k-ft7-camvid_sky-384x512.py"
EXPERIMENTS = DEFAULT_CONFIG.parent / "experiments"
REVIEWED = DEFAULT_CONFIG.parents[1] / "teacher_label_errors.txt"


def _write_split(root, name, count):
    (root / name / "images").mkdir(parents=True)
    (root / name / "masks").mkdir(parents=True)
    for i in range(count):
        image, sky = samples.render_labeled_scene(64, 48, seed=i)
        cv2.imwrite(str(root / name / "images" / f"{name}_{i}.jpg"), image)
        cv2.imwrite(str(root / name / "masks" / f"{name}_{i}.png"), sky.astype(np.uint8))


def _build(cfg, **overrides):
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    init_default_scope("mmseg")
    return DATASETS.build({**cfg.train_dataloader.dataset, **overrides})


def test_each_split_is_seen_its_weight_times_per_epoch(tmp_path):
    for name, count in [("a", 3), ("b", 2)]:
        _write_split(tmp_path, name, count)
    cfg = load_config(STAGE2_CONFIG, data_root=str(tmp_path))
    dataset = _build(cfg, split_weights=dict(a=1, b=3))
    assert len(dataset) == 3 * 1 + 2 * 3
    assert [(d.times, len(d.dataset)) for d in dataset.datasets] == [(1, 3), (3, 2)]
    sample = dataset[len(dataset) - 1]  # a repeat of split b, through the stage's own pipeline
    assert sample["data_samples"].gt_sem_seg.data.shape[-2:] == sample["inputs"].shape[-2:]


def test_a_reviewed_list_of_wrong_labels_is_left_out_of_every_split(tmp_path):
    for name, count in [("a", 3), ("b", 2)]:
        _write_split(tmp_path, name, count)
    reviewed = tmp_path / "errors.txt"
    reviewed.write_text("# wrong labels\na_1  # the sea called sky\nb_0\nnot_in_any_split\n")
    cfg = load_config(STAGE2_CONFIG, data_root=str(tmp_path))
    dataset = _build(cfg, split_weights=dict(a=1, b=3), exclude=str(reviewed))
    assert [(d.times, len(d.dataset)) for d in dataset.datasets] == [(1, 2), (3, 1)]
    stems = {Path(d.dataset.get_data_info(i)["img_path"]).stem for d in dataset.datasets
             for i in range(len(d.dataset))}
    assert stems == {"a_0", "a_2", "b_1"}


def test_the_shipped_list_of_wrong_labels_names_only_teacher_labelled_photos():
    stems = read_exclusions(REVIEWED)
    assert len(stems) >= 27 and all(s.startswith(("ocean_sun_", "mountain_sun_", "garden_sun_")) for s in stems)


@pytest.mark.parametrize("weights,problem", [
    (dict(camvid_train=1, camvid_test=1), "camvid_test is held out"),
    (dict(ade20k_sky_heldout=1), "ade20k_sky_heldout is held out"),
    (dict(sun_outdoor=1, ade20k_dev=1), "ade20k_dev is held out"),
    (dict(idd_train=1, idd_val=1), "idd_val is held out"),
    (dict(camvid_train=1.5), "whole number"),
    (dict(camvid_train=0), "whole number"),
    (dict(), "names no split"),
])
def test_held_out_splits_and_fractional_weights_are_refused_by_name(weights, problem):
    cfg = load_config(STAGE2_CONFIG)
    with pytest.raises(ValueError, match=problem):
        _build(cfg, split_weights=weights)


def test_a_child_config_replaces_the_mix_and_keeps_the_pipeline():
    stage2, e11 = load_config(STAGE2_CONFIG), load_config(E11_CONFIG)
    assert training_splits(stage2) == ["camvid_train", "camvid_val", "cityscapes_sky", "ade20k_sky"]
    assert dict(e11.train_dataloader.dataset.split_weights) == dict(camvid_train=2, camvid_val=2, ade20k_sky=2)
    assert training_splits(e11) == ["camvid_train", "camvid_val", "ade20k_sky"]
    assert e11.train_dataloader.dataset.pipeline == stage2.train_dataloader.dataset.pipeline


def _steps(config):
    from skyseg.train.datasets import effective_pipeline

    dataset = load_config(config).train_dataloader.dataset
    return effective_pipeline(dataset.pipeline, dataset.get("augment"))


def test_a_child_config_changes_one_augment_setting_and_inherits_the_rest():
    """UpwardView is declared once (E24); its children state only the setting they change."""
    e24 = _steps(EXPERIMENTS / "bisenetv2_fcn_1xb4-distil-upward_sky-384x512-cpu.py")
    e25 = _steps(EXPERIMENTS / "bisenetv2_fcn_1xb4-distil-upward60_sky-384x512-cpu.py")
    e30 = _steps(EXPERIMENTS / "bisenetv2_fcn_1xb4-distil-hallsskyfree_sky-384x512-cpu.py")
    assert [t["type"] for t in e24][:4] == ["LoadImageFromFile", "LoadAnnotations", "UpwardView", "RandomResize"]
    upward = [next(t for t in steps if t["type"] == "UpwardView") for steps in (e24, e25, e30)]
    assert [u["prob"] for u in upward] == [0.3, 0.6, 0.3]
    assert upward[1]["splits"] == upward[0]["splits"]
    assert "sun_outdoor" in upward[2]["splits"] and "sun_outdoor" not in upward[0]["splits"]
    assert [t for t in e25 if t["type"] != "UpwardView"] == [t for t in e24 if t["type"] != "UpwardView"]


def test_augment_steps_go_before_their_anchor_and_none_leaves_one_out():
    from skyseg.train.datasets import effective_pipeline

    base = [dict(type="Load"), dict(type="Resize"), dict(type="Pack")]
    steps = effective_pipeline(base, dict(a=dict(type="A", before="Resize", p=1), b=None,
                                          c=dict(type="C", before="Pack")))
    assert steps == [dict(type="Load"), dict(type="A", p=1), dict(type="Resize"), dict(type="C"), dict(type="Pack")]
    assert base == [dict(type="Load"), dict(type="Resize"), dict(type="Pack")]  # the config's list is untouched


@pytest.mark.parametrize("step,problem", [
    (dict(type="A", before="Crop"), "'a' goes before 'Crop', which the pipeline does not have"),
    (dict(type="A"), "'a' needs a 'type' and the transform it goes 'before'"),
    (dict(before="Resize", prob=0.6), "'a' needs a 'type'"),
])
def test_a_misplaced_augment_step_is_refused_by_name(step, problem):
    from skyseg.train.datasets import effective_pipeline

    with pytest.raises(ValueError, match=problem):
        effective_pipeline([dict(type="Load"), dict(type="Resize")], dict(a=step))


def test_a_split_not_written_yet_is_named_with_the_command_that_writes_it(tmp_path):
    _write_split(tmp_path, "a", 1)
    cfg = load_config(STAGE2_CONFIG, data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no split hard_negatives under .*skyseg mine-negatives"):
        _build(cfg, split_weights=dict(a=1, hard_negatives=4))
