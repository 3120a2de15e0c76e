"""Losses registered in MMSeg's MODELS registry.

Three quarters of the served model's wrong pixels on CamVid test lie within 3 px of the true sky
boundary (train/EXPERIMENTS.md), yet plain cross-entropy spends its gradient in proportion to
area, mostly on open sky and road the network already gets right. ``BoundaryWeightedCELoss``
puts more of it where the errors are (train/EXPERIMENTS.md, E14).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from skyseg.labels import IGNORE, SKY


def sky_boundary_band(label: torch.Tensor, radius: int, ignore_index: int = IGNORE) -> torch.Tensor:
    """Bool [N, H, W]: labelled pixels within ``radius`` px (a square window) of both a sky and a
    not-sky label, i.e. on either side of the sky boundary. Ignored pixels are neither, so an
    ignore region does not make a boundary."""
    valid = label != ignore_index
    sky = ((label == SKY) & valid).float().unsqueeze(1)
    ground = ((label != SKY) & valid).float().unsqueeze(1)
    k = 2 * int(radius) + 1
    near_sky = F.max_pool2d(sky, k, stride=1, padding=radius)[:, 0] > 0
    near_ground = F.max_pool2d(ground, k, stride=1, padding=radius)[:, 0] > 0
    return near_sky & near_ground & valid


@MODELS.register_module()
class BoundaryWeightedCELoss(torch.nn.Module):
    """Cross-entropy whose pixels within ``radius`` px of the sky boundary weigh ``1 + boost``.

    Averaged over the labelled pixels (not over the weights), so the loss keeps plain
    cross-entropy's scale away from boundaries and the boundary pixels simply pull harder.
    """

    def __init__(self, radius: int = 4, boost: float = 3.0, loss_weight: float = 1.0,
                 loss_name: str = "loss_ce_boundary") -> None:
        super().__init__()
        if radius < 1 or boost < 0:
            raise ValueError(f"radius must be >= 1 and boost >= 0, got radius={radius}, boost={boost}")
        self.radius, self.boost, self.loss_weight = int(radius), float(boost), float(loss_weight)
        self._loss_name = loss_name

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: torch.Tensor | None = None,
                ignore_index: int = IGNORE, **kwargs) -> torch.Tensor:
        per_pixel = F.cross_entropy(cls_score, label, reduction="none", ignore_index=ignore_index)
        scale = 1.0 + self.boost * sky_boundary_band(label, self.radius, ignore_index).to(per_pixel.dtype)
        if weight is not None:  # a pixel sampler's (OHEM) weights, as MMSeg's own losses take them
            scale = scale * weight
        labelled = (label != ignore_index).sum().clamp(min=1)
        return self.loss_weight * (per_pixel * scale).sum() / labelled

    @property
    def loss_name(self) -> str:
        """MMSeg logs and sums every loss whose name starts with ``loss_``."""
        return self._loss_name
