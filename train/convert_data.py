"""Turn the source layouts into one on-disk format that ``SkyDataset`` reads.

Output: ``<out>/<name>/images/<stem>.jpg`` and ``<out>/<name>/masks/<stem>.png`` with
0 = not_sky, 1 = sky, 255 = ignore. JPEG sources are copied byte for byte (so training sees the
same bytes the server would); other images are re-encoded as JPEG quality 95.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Callable, Iterable, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from skyseg.labels import IGNORE, NOT_SKY, SKY, SOFT_SCALE

LabelMap = Callable[[np.ndarray], np.ndarray]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")

#: CamVid (SegNet layout): class 0 is Sky, 11 is Unlabelled.
CAMVID_SKY, CAMVID_IGNORE = 0, 11
#: Cityscapes labelIds: 23 is sky; 0 unlabeled, 2 rectification border, 3 out of roi are void.
CITYSCAPES_SKY, CITYSCAPES_VOID = 23, (0, 2, 3)
#: IDD-Lite level-1 classes: 6 is sky, 255 void.
IDD_SKY, IDD_VOID = 6, 255
#: Teacher labels: sky where the teacher's p >= high, not sky where p < low, ignored between.
PSEUDO_HIGH, PSEUDO_LOW = 0.7, 0.3
#: Teacher sky whose region starts below this share of the image height, or lies in its bottom
#: ``PSEUDO_BOTTOM`` share, is ignored: surf, snowfields, mist and reflections that it calls sky.
PSEUDO_TOP_SHARE, PSEUDO_BOTTOM = 0.5, 0.2
#: ADE20K SceneParsing (ADEChallengeData2016) PNGs: 1..150 are the classes, sky is 3; 0 is "other
#: objects", which MMSeg's ``reduce_zero_label`` turns into ignore.
ADE20K_SKY, ADE20K_OTHER = 3, 0


def binary_mask_labels(mask: np.ndarray) -> np.ndarray:
    """Binary or soft masks (sky = 255, or >= 128 for soft ones)."""
    return np.where(mask >= 128, SKY, NOT_SKY).astype(np.uint8)


def camvid_labels(index: np.ndarray) -> np.ndarray:
    out = np.where(index == CAMVID_SKY, SKY, NOT_SKY).astype(np.uint8)
    out[index == CAMVID_IGNORE] = IGNORE
    return out


def cityscapes_labels(label_ids: np.ndarray) -> np.ndarray:
    out = np.where(label_ids == CITYSCAPES_SKY, SKY, NOT_SKY).astype(np.uint8)
    out[np.isin(label_ids, CITYSCAPES_VOID)] = IGNORE
    return out


def idd_labels(index: np.ndarray) -> np.ndarray:
    out = np.where(index == IDD_SKY, SKY, NOT_SKY).astype(np.uint8)
    out[index == IDD_VOID] = IGNORE
    return out


def pseudo_labels(prob: np.ndarray, high: float = PSEUDO_HIGH, low: float = PSEUDO_LOW) -> np.ndarray:
    """Training labels from a teacher's sky probability (uint8 0..255): confident pixels only, and
    only sky that is where sky can be (a region reaching the upper half, above the bottom fifth)."""
    p = prob.astype(np.float32) / 255.0
    out = np.full(p.shape, IGNORE, np.uint8)
    out[p < low] = NOT_SKY
    out[p >= high] = SKY
    out[misplaced_sky(p) & (out == SKY)] = IGNORE
    return out


def soft_pseudo_labels(prob: np.ndarray, low: float = PSEUDO_LOW) -> np.ndarray:
    """The teacher's probability itself as the target (``SOFT_SCALE`` = p 1), its unsure band
    included; where sky cannot be, as in :func:`pseudo_labels`, anything the teacher gives p >= ``low``
    is ignored."""
    p = prob.astype(np.float32) / 255.0
    out = np.rint(p * SOFT_SCALE).astype(np.uint8)
    out[misplaced_sky(p) & (p >= low)] = IGNORE
    return out


def misplaced_sky(p: np.ndarray) -> np.ndarray:
    """Where the teacher's sky is surf, snowfields, mist or a reflection: regions (p >= 0.5) that
    start below ``PSEUDO_TOP_SHARE`` of the height, and the bottom ``PSEUDO_BOTTOM`` of the image."""
    h = p.shape[0]
    out = np.zeros(p.shape, bool)
    regions, labels, stats, _ = cv2.connectedComponentsWithStats((p >= 0.5).astype(np.uint8), connectivity=8)
    for region in range(1, regions):
        if stats[region, cv2.CC_STAT_TOP] >= PSEUDO_TOP_SHARE * h:
            out[labels == region] = True
    out[int(round(h * (1 - PSEUDO_BOTTOM))):] = True
    return out


def no_sky_labels(image: np.ndarray) -> np.ndarray:
    """Every pixel not sky: for scenes whose category has none (SUN397 libraries, art galleries)."""
    return np.full(image.shape[:2], NOT_SKY, np.uint8)


def ade20k_labels(index: np.ndarray) -> np.ndarray:
    out = np.where(index == ADE20K_SKY, SKY, NOT_SKY).astype(np.uint8)
    out[index == ADE20K_OTHER] = IGNORE
    return out


def _read_single_channel(path: Path) -> np.ndarray:
    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if mask is None:
        raise ValueError(f"cannot read mask {path}")
    if mask.ndim == 3:  # some binary masks are saved as RGB(A)
        mask = mask[..., 0]
    return mask


def _source_stem(image: Path) -> str:
    """The file stem, without Cityscapes' ``_leftImg8bit`` suffix."""
    return image.stem.replace("_leftImg8bit", "")


def images_under(folder: Path) -> list[Path]:
    """Every image below ``folder``, recursively, sorted."""
    return [p for p in sorted(folder.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]


def write_pairs(pairs: Sequence[tuple[Path, Path]], label_map: LabelMap, out_dir: Path,
                desc: str, stem_of: Callable[[Path], str] = _source_stem,
                read_label: Callable[[Path], np.ndarray] = _read_single_channel) -> int:
    """Write (image, source label) pairs to ``out_dir`` in the common format; returns the count."""
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    (out_dir / "masks").mkdir(parents=True, exist_ok=True)
    for image_path, label_path in tqdm(pairs, desc=desc, unit="img", leave=False):
        stem = stem_of(image_path)
        target = out_dir / "images" / f"{stem}.jpg"
        if image_path.suffix.lower() in (".jpg", ".jpeg"):
            shutil.copyfile(image_path, target)
        else:
            image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
            if image is None:
                raise ValueError(f"cannot read image {image_path}")
            cv2.imwrite(str(target), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        labels = label_map(read_label(label_path))
        cv2.imwrite(str(out_dir / "masks" / f"{stem}.png"), labels)
    return len(pairs)


def _paired_by_stem(images_dir: Path, labels_dir: Path) -> list[tuple[Path, Path]]:
    images = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    pairs = []
    for image in images:
        label = labels_dir / f"{image.stem}.png"
        if not label.exists():
            raise FileNotFoundError(f"no label {label} for image {image}")
        pairs.append((image, label))
    if not pairs:
        raise FileNotFoundError(f"no images in {images_dir}")
    return pairs


def held_out(stems: Iterable[str], fraction: float = 0.2) -> set[str]:
    """A fixed, order-independent subset: the ``fraction`` of stems with the smallest SHA-1."""
    ranked = sorted(stems, key=lambda s: hashlib.sha1(s.encode()).hexdigest())
    return set(ranked[: round(len(ranked) * fraction)])


def convert_binary_folder(images_dir: Path, masks_dir: Path, out_root: Path, name: str,
                          heldout_fraction: float = 0.0) -> dict[str, int]:
    """A folder of images plus same-stem binary/soft masks -> ``name`` (and ``name_heldout``)."""
    pairs = _paired_by_stem(images_dir, masks_dir)
    heldout = held_out([p[0].stem for p in pairs], heldout_fraction)
    counts = {name: write_pairs([p for p in pairs if p[0].stem not in heldout],
                                binary_mask_labels, out_root / name, name)}
    if heldout:
        counts[f"{name}_heldout"] = write_pairs([p for p in pairs if p[0].stem in heldout],
                                                binary_mask_labels, out_root / f"{name}_heldout",
                                                f"{name}_heldout")
    return counts


def convert_camvid(root: Path, out_root: Path,
                   splits: Sequence[str] = ("train", "val", "test")) -> dict[str, int]:
    """SegNet's CamVid layout: ``<split>/*.jpg|png`` with ``<split>annot/*.png`` class indices."""
    return {f"camvid_{s}": write_pairs(_paired_by_stem(root / s, root / f"{s}annot"),
                                       camvid_labels, out_root / f"camvid_{s}", f"camvid_{s}")
            for s in splits}


def convert_cityscapes(root: Path, out_root: Path,
                       splits: Sequence[str] = ("train", "val")) -> dict[str, int]:
    """Raw Cityscapes: ``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` + ``gtFine/..._labelIds.png``."""
    counts = {}
    for split in splits:
        pairs = []
        for image in sorted((root / "leftImg8bit" / split).glob("*/*_leftImg8bit.png")):
            base = image.name.replace("_leftImg8bit.png", "")
            label = root / "gtFine" / split / image.parent.name / f"{base}_gtFine_labelIds.png"
            if not label.exists():
                raise FileNotFoundError(f"no label {label} for image {image}")
            pairs.append((image, label))
        if not pairs:
            raise FileNotFoundError(f"no images under {root / 'leftImg8bit' / split}")
        counts[f"cityscapes_{split}"] = write_pairs(pairs, cityscapes_labels,
                                                    out_root / f"cityscapes_{split}",
                                                    f"cityscapes_{split}")
    return counts


def convert_ade20k(root: Path, out_root: Path,
                   splits: Sequence[str] = ("training", "validation")) -> dict[str, int]:
    """ADE20K's full-label layout: ``images/<split>/*.jpg`` with ``annotations/<split>/*.png`` (150 classes)."""
    return {f"ade20k_{split}": write_pairs(_paired_by_stem(root / "images" / split, root / "annotations" / split),
                                           ade20k_labels, out_root / f"ade20k_{split}", f"ade20k_{split}")
            for split in splits}


def convert_idd_lite(root: Path, out_root: Path) -> dict[str, int]:
    """IDD-Lite: ``leftImg8bit/<split>/<seq>/<id>_image.jpg`` with ``gtFine/<split>/<seq>/<id>_label.png``.
    Stems become ``<seq>_<id>`` (ids repeat across sequences). ``idd_val`` is evaluation only."""
    counts = {}
    for split, name in (("train", "idd_train"), ("val", "idd_val")):
        pairs = []
        for label in sorted((root / "gtFine" / split).glob("*/*_label.png"), key=lambda p: (int(p.parent.name), p.name)):
            image = root / "leftImg8bit" / split / label.parent.name / label.name.replace("_label.png", "_image.jpg")
            if not image.exists():
                raise FileNotFoundError(f"no image {image} for label {label}")
            pairs.append((image, label))
        if not pairs:
            raise FileNotFoundError(f"no labels under {root / 'gtFine' / split}")
        counts[name] = write_pairs(pairs, idd_labels, out_root / name, name,
                                   stem_of=lambda image: f"{image.parent.name}_{image.stem.replace('_image', '')}")
    return counts


def convert_pseudo(images: Path, probs: Path, out_root: Path, name: str,
                   keep: Callable[[str], bool] = lambda scene: True, soft: bool = False) -> dict[str, int]:
    """Photos labelled by ``skyseg pseudo-label`` (``probs`` mirrors ``images``) -> ``name``; only
    those whose scene (the folder they are in) ``keep`` accepts. ``soft`` writes the teacher's
    probability (:func:`soft_pseudo_labels`) instead of its confident pixels."""
    pairs = [(image, probs / image.relative_to(images).with_suffix(".png"))
             for image in images_under(images) if keep(image.parent.name)]
    missing = [str(p) for _, p in pairs if not p.exists()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} photos under {images} have no teacher label (first: {missing[0]}); "
                                f"run `skyseg pseudo-label {images}` first")
    return {name: write_pairs(pairs, soft_pseudo_labels if soft else pseudo_labels, out_root / name, name,
                              stem_of=_scene_stem)}


def convert_no_sky(images: Path, out_root: Path, name: str) -> dict[str, int]:
    """Photos of sky-free scene categories: every pixel not sky, no teacher needed."""
    pairs = [(image, image) for image in images_under(images)]
    return {name: write_pairs(pairs, no_sky_labels, out_root / name, name, stem_of=_scene_stem,
                              read_label=lambda p: cv2.imread(str(p), cv2.IMREAD_COLOR))}


def _scene_stem(image: Path) -> str:
    """``<scene>_<file stem>``: SUN photos keep their scene in the name (for the contact sheets)."""
    return f"{image.parent.name}_{image.stem}"


#: SUN397 photos labelled by the teacher. The campus photos are left out of training: their
#: source states no licence ("development only, never redistribute", ../shared/data/README.md).
SUN_UNLICENSED = ("campus_centerforarts", "campus_commons", "campus_crosbyhall", "campus_hayeshall",
                  "campus_healthsciencelibrary", "campus_lasalle", "campus_studentunion")


def prepare_shared(shared_data: Path, out_root: Path, pseudo: Path | None = Path("data/pseudo/sun")) -> dict[str, int]:
    """Convert the project's shared data folder; 20% of cityscapes_sky and ade20k_sky are held out,
    ``ade20k_sky/dev`` is written as ``ade20k_dev`` (choosing only), IDD-Lite's val as ``idd_val``.
    With ``pseudo`` (``skyseg pseudo-label``'s output for ``sun_unlabelled``), the SUN photos too."""
    counts = convert_camvid(shared_data / "camvid", out_root)
    for name in ("cityscapes_sky", "ade20k_sky"):
        split = shared_data / name / "train"
        counts.update(convert_binary_folder(split / "images", split / "masks", out_root, name,
                                            heldout_fraction=0.2))
    dev = shared_data / "ade20k_sky" / "dev"
    if dev.is_dir():
        counts.update(convert_binary_folder(dev / "images", dev / "masks", out_root, "ade20k_dev"))
    if (shared_data / "idd_lite").is_dir():
        counts.update(convert_idd_lite(shared_data / "idd_lite", out_root))
    sun = shared_data / "sun_unlabelled"
    if sun.is_dir():
        counts.update(convert_no_sky(sun / "indoor", out_root, "sun_indoor"))
        # The "mixed" folder is 122 indoor tennis halls (every photo inspected, none shows sky); the
        # teacher calls the pale ceilings of 15 of them sky (train/EXPERIMENTS.md, E30).
        counts.update(convert_no_sky(sun / "mixed", out_root, "sun_mixed_skyfree"))
        if pseudo is not None and (pseudo / "prob").is_dir():
            counts.update(convert_pseudo(sun / "outdoor", pseudo / "prob" / "outdoor", out_root, "sun_outdoor",
                                         keep=lambda scene: scene not in SUN_UNLICENSED))
            # the same photos with the teacher's probability as a soft target (E46)
            counts.update(convert_pseudo(sun / "outdoor", pseudo / "prob" / "outdoor", out_root, "sun_outdoor_soft",
                                         keep=lambda scene: scene not in SUN_UNLICENSED, soft=True))
            counts.update(convert_pseudo(sun / "mixed", pseudo / "prob" / "mixed", out_root, "sun_mixed"))
            # measured only (E18), never in a shipped recipe: the photos' licence is unknown
            counts.update(convert_pseudo(sun / "outdoor", pseudo / "prob" / "outdoor", out_root, "sun_campus",
                                         keep=lambda scene: scene in SUN_UNLICENSED))
        else:
            print(f"no teacher labels in {pseudo}: sun_outdoor / sun_mixed not written "
                  f"(run `skyseg pseudo-label {sun / 'outdoor'} {sun / 'mixed'} --out {pseudo}`)")
    return counts
