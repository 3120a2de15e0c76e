"""Sky metrics from accumulated pixel counts (dataset-level, as MMSeg's IoUMetric computes them)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .labels import IGNORE, SKY


@dataclass
class SkyCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    images: int = 0
    per_image_iou: list[float] = field(default_factory=list)

    def add(self, pred_sky: np.ndarray, label: np.ndarray) -> None:
        """``pred_sky``: bool HxW; ``label``: 0/1/255 HxW at the same size."""
        if pred_sky.shape != label.shape:
            raise ValueError(f"prediction {pred_sky.shape} and label {label.shape} differ in size")
        valid = label != IGNORE
        truth = label == SKY
        tp = int(np.count_nonzero(pred_sky & truth & valid))
        fp = int(np.count_nonzero(pred_sky & ~truth & valid))
        fn = int(np.count_nonzero(~pred_sky & truth & valid))
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn
        self.tn += int(np.count_nonzero(valid)) - tp - fp - fn
        self.images += 1
        self.per_image_iou.append(tp / (tp + fp + fn) if tp + fp + fn else 1.0)

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

    def as_dict(self) -> dict[str, float]:
        return {"images": self.images, "sky_iou": 100 * self.iou, "sky_precision": 100 * self.precision,
                "sky_recall": 100 * self.recall, "pixel_accuracy": 100 * self.pixel_accuracy}
