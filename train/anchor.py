"""A segmentor that learns new negatives while a frozen copy of its starting network labels the rest.

Every recipe that taught the network pale walls and ceilings were not sky also took away clouds
and washed-out white skies (train/EXPERIMENTS.md, E33-E44): the labels of the outdoor photos do not
hold what the starting network knew about them (the teacher itself calls some cumulus not sky).
Here the outdoor photos are labelled by the starting network instead (confident pixels only), so
training can only move it where the indoor photos' human labels disagree with it: learning
without forgetting (Li and Hoiem 2016) with hard targets, on MMSeg's EncoderDecoder. Measured
in E45 and left out of the default recipe: it held the clouds, and the rooms' negatives still
did not reach the held-out rooms.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn.functional as F
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS

from skyseg.labels import IGNORE, NOT_SKY, SKY

from .datasets import SCENE_KEY


@MODELS.register_module()
class AnchoredEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` whose training samples not labelled indoor (metainfo ``indoor`` != 1) are
    relabelled by a frozen reference network loaded from ``anchor``: sky where its probability is
    at least ``confident``, not sky where at most ``1 - confident``, ignored between and where the
    human label was ignored (padding). Indoor samples keep their human labels.

    The reference is held outside the module tree: it is not trained, not saved in checkpoints
    (so `skyseg export` sees the plain network) and stays in eval mode. It is loaded at the first
    training step, so the model builds (export, tests) where ``anchor`` was never written."""

    def __init__(self, anchor: str, confident: float = 0.7, **kwargs) -> None:
        if not 0.5 < confident < 1.0:
            raise ValueError(f"confident must be within (0.5, 1), got {confident}")
        self._reference_cfg = {k: copy.deepcopy(v) for k, v in kwargs.items() if k in ("backbone", "decode_head")}
        super().__init__(**kwargs)
        self.anchor, self.confident = str(anchor), float(confident)
        self._reference: list[EncoderDecoder] = []

    @property
    def reference(self) -> EncoderDecoder:
        if not self._reference:
            from skyseg.convert.network import load_state_dict

            if not Path(self.anchor).is_file():
                raise FileNotFoundError(f"AnchoredEncoderDecoder: no anchor checkpoint {self.anchor} (the config's "
                                        "header says which command writes it)")
            reference = EncoderDecoder(**copy.deepcopy(self._reference_cfg))
            reference.load_state_dict(load_state_dict(self.anchor), strict=True)
            self._reference.append(reference.eval().requires_grad_(False))
        return self._reference[0]

    @torch.no_grad()
    def reference_labels(self, inputs: torch.Tensor, human: torch.Tensor) -> torch.Tensor:
        """[N, H, W] labels from the reference's sky probability at the inputs' size."""
        logits = self.reference.decode_head(self.reference.extract_feat(inputs)).float()
        logits = F.interpolate(logits, size=inputs.shape[-2:], mode="bilinear", align_corners=False)
        sky = logits.softmax(1)[:, SKY]
        labels = torch.full_like(human, IGNORE)
        labels[sky >= self.confident] = SKY
        labels[sky <= 1.0 - self.confident] = NOT_SKY
        labels[human == IGNORE] = IGNORE
        return labels

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        anchored = [i for i, s in enumerate(data_samples) if s.metainfo.get(SCENE_KEY, -1) != 1]
        if anchored:
            human = torch.stack([data_samples[i].gt_sem_seg.data[0] for i in anchored]).long()
            relabelled = self.reference_labels(inputs[anchored], human)
            for i, label in zip(anchored, relabelled):
                data_samples[i].gt_sem_seg.data = label[None].to(data_samples[i].gt_sem_seg.data.dtype)
        return super().loss(inputs, data_samples)
