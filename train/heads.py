"""Training-only heads registered in MMSeg's MODELS registry.

``SceneHead`` teaches the backbone's global context whether a photo is indoors. A pale wall or a
sloped attic ceiling is, pixel for pixel, a washed-out white sky: every run that taught the
network one (mined ceilings, tennis-hall roofs) cost it the other (train/EXPERIMENTS.md, E33-E43).
What tells them apart is the room around them. BiSeNetV2's context-embedding block adds the
global average of the semantic branch's last stage to every pixel before the decode head, so a
classifier on that same average makes "indoors" part of what each pixel sees. Like MMSeg's
auxiliary FCN heads it is dropped at export: the served network and its speed do not change.
Measured in E44 and left out of the default recipe: the head learnt "indoors", the rooms' false
sky halved, and the cumulus went as in E33-E43.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

from .datasets import SCENE_KEY


@MODELS.register_module()
class SceneHead(BaseModule):
    """Indoor/outdoor logit from the global average of backbone output ``in_index``; binary
    cross-entropy over the samples whose metainfo carries a scene label (``indoor`` 0 or 1).

    The classifier starts at zero, so the backbone's first gradients from this loss are zero and
    grow as the head learns: a fine-tune from shipped weights is not kicked by a random head."""

    def __init__(self, in_channels: int, in_index: int = 4, dropout_ratio: float = 0.1,
                 loss_weight: float = 0.4, init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_index, self.loss_weight = int(in_index), float(loss_weight)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.classifier = nn.Linear(in_channels, 1)
        nn.init.zeros_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        pooled = F.adaptive_avg_pool2d(inputs[self.in_index], 1).flatten(1)
        return self.classifier(self.dropout(pooled))[:, 0]

    def loss(self, inputs: tuple[torch.Tensor, ...], batch_data_samples: list, train_cfg: dict | None = None) -> dict:
        """``loss_scene`` and ``acc_scene`` (the batch's labelled samples; both 0 without any)."""
        logits = self.forward(inputs).float()
        labels = torch.tensor([float(s.metainfo.get(SCENE_KEY, -1)) for s in batch_data_samples],
                              device=logits.device)
        known = labels >= 0
        if not known.any():
            zero = logits.sum() * 0.0  # keeps the head in the graph (DDP needs every parameter used)
            return dict(loss_scene=zero, acc_scene=zero.detach())
        loss = F.binary_cross_entropy_with_logits(logits[known], labels[known])
        accuracy = ((logits[known] > 0).float() == labels[known]).float().mean() * 100
        return dict(loss_scene=self.loss_weight * loss, acc_scene=accuracy.detach())
