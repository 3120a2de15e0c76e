"""Sky metrics from accumulated pixel counts (dataset-level, as MMSeg's IoUMetric computes them)."""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from skyseg.labels import IGNORE, SKY

BOUNDARY_TOLERANCE_PX = 3
SKY_PHOTO_SHARE = 0.01  #: an image "has sky" for the per-photo figures when >= 1% of its labelled pixels are sky
GOOD_PHOTO_IOU, MISSED_PHOTO_IOU = 0.90, 0.50  #: per-photo bars: a good mask, and a missed sky
BOOTSTRAP_RESAMPLES = 2000  #: image resamples behind every interval; the percentiles move < 0.05 IoU beyond this


def boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` (bool) with a 4-neighbour outside it."""
    eroded = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    return mask & ~eroded.astype(bool)


def _near(points: np.ndarray, target: np.ndarray, tolerance: int) -> int:
    """How many ``points`` lie within ``tolerance`` px of a ``target`` pixel."""
    if not points.any() or not target.any():
        return 0
    distance = cv2.distanceTransform((~target).astype(np.uint8), cv2.DIST_L2, 3)
    return int(np.count_nonzero(points & (distance <= tolerance)))


@dataclass
class SkyCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    #: (tp, fp, fn) of each image in order: what the intervals resample and ``--against`` pairs
    per_image: list[tuple[int, int, int]] = field(default_factory=list)
    #: each image's name (its file stem), so that ``--against`` pairs images by name, not position
    names: list[str] = field(default_factory=list)
    #: each image's labelled (not ignored) pixels: which images hold >= SKY_PHOTO_SHARE sky
    valid_pixels: list[int] = field(default_factory=list)
    #: boundary F1 counts: predicted / true boundary pixels, and those matched within the tolerance
    pred_boundary: int = 0
    true_boundary: int = 0
    pred_matched: int = 0
    true_matched: int = 0
    #: images whose labels hold no sky: their pixels, and the ones predicted as sky
    no_sky_images: int = 0
    no_sky_pixels: int = 0
    no_sky_false: int = 0
    #: wrong pixels (fp + fn) within BOUNDARY_TOLERANCE_PX of the true sky boundary: the share a
    #: sharper boundary could win back, against errors a better classifier must fix
    errors_near_boundary: int = 0

    def add(self, pred_sky: np.ndarray, label: np.ndarray, name: str | None = None) -> None:
        """``pred_sky``: bool HxW; ``label``: 0/1/255 HxW at the same size; ``name``: the image's
        (its position when not given)."""
        if pred_sky.shape != label.shape:
            raise ValueError(f"prediction {pred_sky.shape} and label {label.shape} differ in size")
        valid = label != IGNORE
        truth = label == SKY
        tp = int(np.count_nonzero(pred_sky & truth & valid))
        fp = int(np.count_nonzero(pred_sky & ~truth & valid))
        fn = int(np.count_nonzero(~pred_sky & truth & valid))
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn
        labelled = int(np.count_nonzero(valid))
        self.tn += labelled - tp - fp - fn
        self.per_image.append((tp, fp, fn))
        self.valid_pixels.append(labelled)
        self.names.append(str(len(self.names)) if name is None else name)
        self._add_boundaries(pred_sky, truth, valid)
        if not np.any(truth & valid):
            self.no_sky_images += 1
            self.no_sky_pixels += int(np.count_nonzero(valid))
            self.no_sky_false += fp

    def _add_boundaries(self, pred_sky: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> None:
        """Boundaries next to ignored pixels are not scored (their true position is unknown)."""
        near_ignore = cv2.dilate((~valid).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        pred_b, true_b = boundary(pred_sky) & ~near_ignore, boundary(truth & valid) & ~near_ignore
        wrong = (pred_sky != truth) & valid
        self.errors_near_boundary += _near(wrong, boundary(truth) | boundary(~truth), BOUNDARY_TOLERANCE_PX)
        self.pred_boundary += int(np.count_nonzero(pred_b))
        self.true_boundary += int(np.count_nonzero(true_b))
        self.pred_matched += _near(pred_b, true_b, BOUNDARY_TOLERANCE_PX)
        self.true_matched += _near(true_b, pred_b, BOUNDARY_TOLERANCE_PX)

    @property
    def images(self) -> int:
        return len(self.per_image)

    @property
    def per_image_iou(self) -> list[float]:
        """Each image's own sky IoU (1.0 where it has no sky and none is predicted)."""
        return [tp / (tp + fp + fn) if tp + fp + fn else 1.0 for tp, fp, fn in self.per_image]

    @property
    def sky_images(self) -> int:
        """Images with labelled sky: what the sky IoU really rests on (ADE20K held-out: 4 of 20)."""
        return sum(1 for tp, _, fn in self.per_image if tp + fn)

    def photo_ious(self) -> list[float]:
        """Per-image sky IoU of the images with at least SKY_PHOTO_SHARE sky: what a user who
        tries one photo at a time sees (a pooled IoU hides a missed small sky behind a big one)."""
        return [tp / (tp + fp + fn) for (tp, fp, fn), pixels in zip(self.per_image, self.valid_pixels)
                if tp + fn >= SKY_PHOTO_SHARE * pixels and tp + fn > 0]

    def photo_summary(self) -> dict[str, float | int | None]:
        ious = self.photo_ious()
        return {"sky_photos": len(ious),
                "mean_photo_iou": 100 * float(np.mean(ious)) if ious else None,
                "photos_at_90_pct": 100 * sum(i >= GOOD_PHOTO_IOU for i in ious) / len(ious) if ious else None,
                "photos_under_50": sum(i < MISSED_PHOTO_IOU for i in ious)}

    @property
    def iou(self) -> float:
        return self.tp / max(self.tp + self.fp + self.fn, 1)

    @property
    def precision(self) -> float:
        return self.tp / max(self.tp + self.fp, 1)

    @property
    def recall(self) -> float:
        """MMSeg's per-class "Acc" for sky."""
        return self.tp / max(self.tp + self.fn, 1)

    @property
    def pixel_accuracy(self) -> float:
        return (self.tp + self.tn) / max(self.tp + self.fp + self.fn + self.tn, 1)

    @property
    def boundary_f1(self) -> float:
        """Sky boundary F1 within BOUNDARY_TOLERANCE_PX at the original resolution (1.0 if no boundary)."""
        if self.pred_boundary == 0 and self.true_boundary == 0:
            return 1.0
        precision = self.pred_matched / max(self.pred_boundary, 1)
        recall = self.true_matched / max(self.true_boundary, 1)
        return 2 * precision * recall / max(precision + recall, 1e-12)

    @property
    def false_sky_rate(self) -> float | None:
        """Share of pixels called sky in images that contain none (None if there are no such images)."""
        return self.no_sky_false / self.no_sky_pixels if self.no_sky_pixels else None

    @property
    def boundary_error_share(self) -> float:
        """Share of the wrong pixels lying within BOUNDARY_TOLERANCE_PX of the true sky boundary."""
        return self.errors_near_boundary / max(self.fp + self.fn, 1)

    def as_dict(self) -> dict[str, float | None]:
        rate = self.false_sky_rate
        return {"images": self.images, "sky_iou": 100 * self.iou, "sky_precision": 100 * self.precision,
                "sky_recall": 100 * self.recall, "pixel_accuracy": 100 * self.pixel_accuracy,
                "boundary_f1": self.boundary_f1, "no_sky_images": self.no_sky_images,
                "errors_near_boundary_pct": 100 * self.boundary_error_share,
                "false_sky_rate_pct": None if rate is None else 100 * rate,
                "sky_images": self.sky_images,
                "sky_iou_ci95": [100 * v for v in bootstrap_iou(self.per_image)],
                **self.photo_summary(),
                "per_image_pixels": dict(zip(self.names, self.valid_pixels)),
                "per_image": {name: list(counts) for name, counts in zip(self.names, self.per_image)}}


def _pooled_iou(counts: np.ndarray) -> np.ndarray:
    """Dataset-level IoU of each resample: ``counts`` [R, images, 3] of (tp, fp, fn)."""
    tp, fp, fn = counts.sum(axis=1).T
    union = tp + fp + fn
    return np.where(union > 0, tp / np.maximum(union, 1), 1.0)  # a draw of only sky-free, clean images: nothing wrong


def _resamples(n: int, resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def _interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` share of the resampled values: a percentile interval."""
    tail = 50 * (1 - level)
    return float(np.percentile(samples, tail)), float(np.percentile(samples, 100 - tail))


def bootstrap_iou(per_image: list[tuple[int, int, int]] | np.ndarray, level: float = 0.95,
                  resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the dataset-level sky IoU over images drawn with replacement.

    Why: a pooled IoU over a few sky images moves by points when one image changes, and a recipe
    decision should know whether a difference is larger than that (train/EXPERIMENTS.md)."""
    counts = np.asarray(per_image, dtype=np.float64).reshape(-1, 3)
    if len(counts) == 0:
        return (float("nan"), float("nan"))
    return _interval(_pooled_iou(counts[_resamples(len(counts), resamples, seed)]), level)


def paired_iou_difference(candidate: list | np.ndarray, baseline: list | np.ndarray, level: float = 0.95,
                          resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float, float]:
    """(candidate - baseline sky IoU, and its percentile interval) with the *same* images drawn for
    both: the image-to-image spread that two models share cancels, so the interval is much
    narrower than either model's own."""
    a = np.asarray(candidate, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(baseline, dtype=np.float64).reshape(-1, 3)
    if a.shape != b.shape:
        raise ValueError(f"paired comparison needs the same images: {len(a)} against {len(b)}")
    pick = _resamples(len(a), resamples, seed)
    diff = float(_pooled_iou(a[None])[0] - _pooled_iou(b[None])[0])
    return (diff, *_interval(_pooled_iou(a[pick]) - _pooled_iou(b[pick]), level))
