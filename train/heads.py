"""Training-only heads registered in MMSeg's MODELS registry.

``SoftTargetFCNHead`` is MMSeg's FCNHead (same layers, same state dict, the served network) whose
loss takes the teacher's probability as the target on ``soft`` splits (train/datasets.py): the
soft-target cross-entropy of knowledge distillation, the teacher's unsure band included, where the
hard pseudo-labels keep only its confident pixels. Measured in E46 and left out of the default
recipe: that band is mostly pale cloud and haze, and "half sky" there took the rooms' false sky
down to a third and the field video's cumulus with it.

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
from mmseg.models.decode_heads import FCNHead
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import nn

from skyseg.labels import NOT_SKY, SKY, SOFT_SCALE

from .datasets import SCENE_KEY, SOFT_KEY


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


@MODELS.register_module()
class SoftTargetFCNHead(FCNHead):
    """FCNHead whose samples from soft splits learn p(sky) from their mask (``v / SOFT_SCALE``)
    through a soft cross-entropy, ``loss_soft``; the head's own losses (cross-entropy, Lovasz) see
    those samples as ignored. Both are divided by the batch's pixel count, as MMSeg's mean
    cross-entropy is, so a soft pixel weighs what a hard one does at ``soft_weight`` 1."""

    def __init__(self, soft_weight: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.soft_weight = float(soft_weight)

    def loss_by_feat(self, seg_logits: torch.Tensor, batch_data_samples: list) -> dict:
        if self.sampler is not None:
            raise ValueError("SoftTargetFCNHead: a pixel sampler (OHEM) is not supported with soft targets")
        soft = torch.tensor([bool(s.metainfo.get(SOFT_KEY, 0)) for s in batch_data_samples], device=seg_logits.device)
        target = self._stack_batch_gt(batch_data_samples).squeeze(1)
        seg_logits = resize(seg_logits, size=target.shape[1:], mode="bilinear", align_corners=self.align_corners)
        hard = target.clone()
        hard[soft] = self.ignore_index
        losses = {}
        decode_losses = self.loss_decode if isinstance(self.loss_decode, nn.ModuleList) else [self.loss_decode]
        for loss_decode in decode_losses:
            value = loss_decode(seg_logits, hard, weight=None, ignore_index=self.ignore_index)
            if value.numel() == 0:  # Lovasz on an all-soft batch: nothing hard to score, not an empty tensor (NaN)
                value = seg_logits.sum() * 0.0
            losses[loss_decode.loss_name] = losses.get(loss_decode.loss_name, 0) + value
        losses["loss_soft"] = self.soft_weight * soft_cross_entropy(seg_logits, target, soft, self.ignore_index)
        losses["acc_seg"] = accuracy(seg_logits, hard, ignore_index=self.ignore_index)
        return losses


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor, soft: torch.Tensor, ignore_index: int) -> torch.Tensor:
    """Sum over the ``soft`` samples' labelled pixels of -(q log p + (1 - q) log(1 - p)), q the
    mask's p(sky), over the batch's pixel count."""
    valid = soft[:, None, None] & (target != ignore_index)
    q = (target.float() / SOFT_SCALE).clamp(0, 1)
    log_p = F.log_softmax(logits.float(), dim=1)
    loss = -(q * log_p[:, SKY] + (1 - q) * log_p[:, NOT_SKY])
    return (loss * valid).sum() / target.numel()
