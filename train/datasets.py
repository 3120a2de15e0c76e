"""The two-class sky dataset and the weighted mix of splits a stage trains on, registered in
MMSeg's DATASETS registry."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from mmengine.dataset import ConcatDataset
from mmseg.datasets import BaseSegDataset
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import DATASETS

from skyseg.labels import CLASSES

from .splits import is_held_out, read_stem_list

SCENES = ("indoor", "outdoor", "mixed")
SCENE_KEY = "indoor"  # per-sample metainfo: 1 indoor, 0 outdoor, -1 not known (no scene loss)
SOFT_KEY = "soft_label"  # per-sample metainfo: 1 when the mask holds p(sky) (skyseg.labels.SOFT_SCALE)


@DATASETS.register_module()
class SkyDataset(BaseSegDataset):
    """``<root>/<split>/images/*.jpg`` with ``<root>/<split>/masks/*.png`` (0 not_sky, 1 sky, 255 ignore).

    ``scene`` gives every sample an image-level indoor label (for ``SceneHead`` and
    ``AnchoredEncoderDecoder``, train/heads.py and train/anchor.py): a split that
    is all ``indoor`` or all ``outdoor``, or ``mixed``, where a photo is indoor if its stem is in
    the reviewed list ``indoor_photos`` and outdoor otherwise. ``soft`` marks a split whose masks
    hold the teacher's probability (``skyseg prepare-data``'s ``*_soft`` splits), for
    ``SoftTargetFCNHead`` (train/heads.py)."""

    METAINFO = dict(classes=CLASSES, palette=[[0, 0, 0], [70, 130, 180]])

    def __init__(self, img_suffix: str = ".jpg", seg_map_suffix: str = ".png",
                 reduce_zero_label: bool = False, exclude: str | None = None,
                 scene: str | None = None, indoor_photos: str | None = None, soft: bool = False,
                 **kwargs) -> None:
        if scene is not None and scene not in SCENES:
            raise ValueError(f"SkyDataset: scene must be one of {SCENES} or None, got {scene!r}")
        if scene == "mixed" and not indoor_photos:
            raise ValueError("SkyDataset: a 'mixed' split needs the list of its indoor photos (indoor_photos)")
        self.excluded = read_stem_list(exclude) if exclude else frozenset()
        self.scene = scene
        self.soft = bool(soft)
        self.indoor_stems = read_stem_list(indoor_photos) if indoor_photos else frozenset()
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=reduce_zero_label, **kwargs)

    def load_data_list(self) -> list[dict]:
        """The split's pairs, less the stems of ``exclude`` (a reviewed list of wrong labels), each
        with its scene label."""
        pairs = [p for p in super().load_data_list() if Path(p["img_path"]).stem not in self.excluded]
        for pair in pairs:
            pair[SCENE_KEY] = self._indoor(Path(pair["img_path"]).stem)
            pair[SOFT_KEY] = int(self.soft)
        return pairs

    def _indoor(self, stem: str) -> int:
        if self.scene == "mixed":
            return int(stem in self.indoor_stems)
        return {"indoor": 1, "outdoor": 0}.get(self.scene, -1)


def with_meta_keys(pipeline: list[dict], *keys: str) -> list[dict]:
    """``pipeline`` whose ``PackSegInputs`` also packs ``keys`` (per-sample labels such as the
    scene) into each sample's metainfo."""
    steps = [dict(t) for t in pipeline]
    for step in steps:
        if step.get("type") == "PackSegInputs":
            packed = tuple(step.get("meta_keys", PackSegInputs().meta_keys))
            step["meta_keys"] = packed + tuple(k for k in keys if k not in packed)
            return steps
    raise ValueError(f"a pipeline that packs {keys} needs a PackSegInputs step: {[t.get('type') for t in steps]}")


def effective_pipeline(pipeline: list, augment: Mapping[str, Any] | None = None) -> list[dict]:
    """``pipeline`` with each named ``augment`` step inserted just before the first transform of the
    type its ``before`` key names; a step set to None is left out.

    Named steps are a dict, which MMEngine merges on ``_base_`` inheritance where it replaces lists
    whole: a child config changes one step's ``prob`` or ``splits`` in one line instead of restating
    the whole pipeline."""
    steps = [dict(t) for t in pipeline]
    for name, step in (augment or {}).items():
        if step is None:
            continue
        step = dict(step)
        before = step.pop("before", None)
        if "type" not in step or before is None:
            raise ValueError(f"augment step {name!r} needs a 'type' and the transform it goes 'before', got {step}")
        anchors = [i for i, t in enumerate(steps) if t.get("type") == before]
        if not anchors:
            raise ValueError(f"augment step {name!r} goes before {before!r}, which the pipeline does not have: "
                             f"{[t.get('type') for t in steps]}")
        steps.insert(anchors[0], step)
    return steps


@DATASETS.register_module()
class WeightedSkySplits(ConcatDataset):
    """Converted splits trained on together, each seen ``weight`` times per epoch (a ConcatDataset
    of RepeatDatasets). A stage's data mix is one ``split_weights`` dict that a child config
    replaces, instead of a list comprehension that every child must restate (MMEngine evaluates a
    comprehension in the file that writes it). Held-out splits are refused by name. ``augment``
    adds named transforms to ``pipeline`` (:func:`effective_pipeline`), so an experiment states only
    what it changes; ``exclude`` names a list of image stems (wrong labels) no split trains on.
    ``scenes`` (``dict(indoor=(splits), outdoor=(splits), mixed=(splits), indoor_photos=path)``)
    labels each sample indoor or outdoor (``SkyDataset``'s ``scene``); a split in none is unlabelled.
    ``soft_splits`` names the splits whose masks are the teacher's probability (``SkyDataset``'s
    ``soft``): a model trained on one needs ``SoftTargetFCNHead``."""

    def __init__(self, split_weights: dict[str, int], pipeline: list, data_root: str = "data/sky",
                 augment: Mapping[str, Any] | None = None, exclude: str | None = None,
                 scenes: Mapping[str, Any] | None = None, soft_splits: tuple[str, ...] = (),
                 **kwargs) -> None:
        if not split_weights:
            raise ValueError("WeightedSkySplits: split_weights names no split")
        for name, weight in split_weights.items():
            if is_held_out(name):
                raise ValueError(f"WeightedSkySplits: {name} is held out for evaluation and is never trained on")
            if int(weight) != weight or weight < 1:
                raise ValueError(f"WeightedSkySplits: the weight of {name} must be a whole number of "
                                 f"repeats per epoch (1 or more), got {weight!r}")
        missing = [name for name in split_weights if not (Path(data_root) / name / "images").is_dir()]
        if missing:
            raise FileNotFoundError(
                f"WeightedSkySplits: no split {', '.join(missing)} under {data_root}: `skyseg prepare-data` writes "
                "the converted splits, `skyseg mine-negatives` and `skyseg mine-positives` the mined ones (docs/training.md)")
        _refuse_untrained("soft_splits", soft_splits, split_weights)
        pipeline = effective_pipeline(pipeline, augment)
        split_scene, indoor_photos = _split_scenes(scenes, split_weights)
        if scenes:
            pipeline = with_meta_keys(pipeline, SCENE_KEY)
        if soft_splits:
            pipeline = with_meta_keys(pipeline, SOFT_KEY)
        super().__init__([dict(type="RepeatDataset", times=int(weight),
                               dataset=dict(type="SkyDataset", data_root=data_root, pipeline=pipeline,
                                            exclude=exclude, scene=split_scene.get(name), indoor_photos=indoor_photos,
                                            soft=name in soft_splits,
                                            data_prefix=dict(img_path=f"{name}/images", seg_map_path=f"{name}/masks")))
                          for name, weight in split_weights.items()], **kwargs)


def _split_scenes(scenes: Mapping[str, Any] | None, split_weights: Mapping[str, int]) -> tuple[dict[str, str], str | None]:
    """``{split: scene}`` from ``WeightedSkySplits``' ``scenes``, and the list of indoor photos."""
    if not scenes:
        return {}, None
    scenes = dict(scenes)
    indoor_photos = scenes.pop("indoor_photos", None)
    unknown = set(scenes) - set(SCENES)
    if unknown:
        raise ValueError(f"WeightedSkySplits: scenes takes {SCENES} and indoor_photos, got {sorted(unknown)}")
    split_scene: dict[str, str] = {}
    for scene, splits in scenes.items():
        for split in splits:
            if split in split_scene:
                raise ValueError(f"WeightedSkySplits: {split} is both {split_scene[split]} and {scene}")
            split_scene[split] = scene
    _refuse_untrained("scenes", split_scene, split_weights)
    return split_scene, indoor_photos


def _refuse_untrained(setting: str, splits: Iterable[str], split_weights: Mapping[str, int]) -> None:
    """A ``setting`` that names a split the mix does not train on is a typo or a stale config."""
    strays = sorted(set(splits) - set(split_weights))
    if strays:
        raise ValueError(f"WeightedSkySplits: {setting} names splits the mix does not train on: {', '.join(strays)}")
