"""The weighted mix of training splits (train/datasets.py) as a recipe config builds it."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from skyseg import samples
from skyseg.train.device_bundle import training_splits
from skyseg.train.runner import DEFAULT_CONFIG, load_config
from skyseg.train.splits import read_stem_list

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
    stems = read_stem_list(REVIEWED)
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


SCENE_CONFIG = EXPERIMENTS / "bisenetv2_fcn_1xb4-distil-hardnegpos-clean-scene_sky-384x512-cpu.py"
INDOOR_PHOTOS = DEFAULT_CONFIG.parents[1] / "indoor_photos.txt"


def test_scene_labels_come_from_the_split_or_the_reviewed_list_of_indoor_photos(tmp_path):
    """SceneHead's labels: a split's own scene, or photo by photo for a mixed split; a split named in
    no scene is unlabelled (-1, no scene loss). The label reaches the sample through the pipeline."""
    for name in "abcd":
        _write_split(tmp_path, name, 2)
    indoor = tmp_path / "indoor.txt"
    indoor.write_text("# rooms\nc_1  # a bedroom\n")
    cfg = load_config(STAGE2_CONFIG, data_root=str(tmp_path))
    dataset = _build(cfg, split_weights=dict(a=1, b=1, c=1, d=1),
                     scenes=dict(indoor=("a",), outdoor=("b",), mixed=("c",), indoor_photos=str(indoor)))
    labels = {Path(d.dataset.get_data_info(i)["img_path"]).stem: d.dataset.get_data_info(i)["indoor"]
              for d in dataset.datasets for i in range(len(d.dataset))}
    assert labels == dict(a_0=1, a_1=1, b_0=0, b_1=0, c_0=0, c_1=1, d_0=-1, d_1=-1)
    assert [dataset[i]["data_samples"].metainfo["indoor"] for i in range(len(dataset))] == [1, 1, 0, 0, 0, 1, -1, -1]
    assert "indoor" not in _build(cfg, split_weights=dict(a=1))[0]["data_samples"].metainfo  # no scenes: as before


@pytest.mark.parametrize("scenes,problem", [
    (dict(indoor=("a",), outdoor=("a",)), "a is both indoor and outdoor"),
    (dict(indoor=("a", "z")), "names splits the mix does not train on: z"),
    (dict(rooms=("a",)), r"scenes takes .* got \['rooms'\]"),
    (dict(mixed=("a",)), "a 'mixed' split needs the list of its indoor photos"),
])
def test_a_wrong_scene_labelling_is_refused_by_name(tmp_path, scenes, problem):
    _write_split(tmp_path, "a", 1)
    cfg = load_config(STAGE2_CONFIG, data_root=str(tmp_path))
    with pytest.raises(ValueError, match=problem):
        _build(cfg, split_weights=dict(a=1), scenes=scenes)


def test_the_scene_recipe_labels_every_split_it_trains_on():
    """E44: no split of its mix is silently unlabelled, and the reviewed indoor list names only
    ADE20K training photos (rooms), never a held-out or choosing-set photo."""
    dataset = load_config(SCENE_CONFIG).train_dataloader.dataset
    named = {s for key in ("indoor", "outdoor", "mixed") for s in dataset.scenes[key]}
    assert named == set(dataset.split_weights)
    rooms = read_stem_list(INDOOR_PHOTOS)
    assert len(rooms) == 56 and all(s.startswith("ADE_train_") for s in rooms)


SOFT_CONFIG = EXPERIMENTS / "bisenetv2_fcn_1xb4-distil-soft_sky-384x512-cpu.py"


def test_a_soft_split_marks_its_samples_and_packs_the_mark(tmp_path):
    """SoftTargetFCNHead tells a probability mask from a class mask by the sample's ``soft_label``;
    it reaches the sample through the pipeline, and a mix without soft splits packs nothing new."""
    for name in "ab":
        _write_split(tmp_path, name, 2)
    cfg = load_config(SOFT_CONFIG, data_root=str(tmp_path))
    dataset = _build(cfg, split_weights=dict(a=1, b=1), soft_splits=("b",), augment=None)
    assert [dataset[i]["data_samples"].metainfo["soft_label"] for i in range(len(dataset))] == [0, 0, 1, 1]
    assert "soft_label" not in _build(cfg, split_weights=dict(a=1), soft_splits=(), augment=None)[0]["data_samples"].metainfo


def test_a_soft_split_the_mix_does_not_train_on_is_refused_by_name(tmp_path):
    _write_split(tmp_path, "a", 1)
    cfg = load_config(SOFT_CONFIG, data_root=str(tmp_path))
    with pytest.raises(ValueError, match="soft_splits names splits the mix does not train on: z"):
        _build(cfg, split_weights=dict(a=1), soft_splits=("z",), augment=None)


def test_the_soft_recipe_is_e41_with_only_the_teacher_photos_swapped_for_their_soft_labels():
    """E46 is one change from E41: the same mix and weights, sun_outdoor read as sun_outdoor_soft."""
    e41 = load_config(EXPERIMENTS / "bisenetv2_fcn_1xb4-distil-hardnegpos-clean_sky-384x512-cpu.py")
    e46 = load_config(SOFT_CONFIG)
    mix41 = dict(e41.train_dataloader.dataset.split_weights)
    mix41["sun_outdoor_soft"] = mix41.pop("sun_outdoor")
    assert dict(e46.train_dataloader.dataset.split_weights) == mix41
    assert tuple(e46.train_dataloader.dataset.soft_splits) == ("sun_outdoor_soft",)
    assert "sun_outdoor_soft" in e46.train_dataloader.dataset.augment.upward.splits
    assert e46.model.decode_head.type == "SoftTargetFCNHead"
