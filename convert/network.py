"""Build the inference network (backbone + decode head) from a config and a checkpoint."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from skyseg.train.runner import load_config

TRAINING_ONLY_PREFIXES = ("auxiliary_head.",)


class LogitsNet(nn.Module):
    """Normalised RGB [N, 3, H, W] -> logits at the decode head's stride [N, C, H/8, W/8].

    The upsampling to the image size lives in postprocess, where it goes straight to the
    original resolution instead of via the model's input size.
    """

    def __init__(self, segmentor: nn.Module) -> None:
        super().__init__()
        self.backbone = segmentor.backbone
        self.decode_head = segmentor.decode_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_head(self.backbone(x))


def load_state_dict(checkpoint: str | Path) -> dict[str, torch.Tensor]:
    """Weights of a training or inference checkpoint, without training-only heads."""
    from skyseg.train import mmcompat

    mmcompat.setup()
    with mmcompat.training_checkpoints():
        blob = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    state = blob.get("state_dict", blob)
    return {k: v for k, v in state.items() if not k.startswith(TRAINING_ONLY_PREFIXES)}


def build_network(config: str | Path, checkpoint: str | Path | None = None) -> LogitsNet:
    cfg = load_config(config)
    cfg.model.auxiliary_head = None
    from mmseg.registry import MODELS

    segmentor = MODELS.build(cfg.model)
    if checkpoint is not None:
        segmentor.load_state_dict(load_state_dict(checkpoint), strict=True)
    return LogitsNet(segmentor).eval()


def save_inference_checkpoint(checkpoint: str | Path, out: str | Path, meta: dict) -> Path:
    """Backbone + decode head only (no optimizer state): ~1/10 of a training checkpoint."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": load_state_dict(checkpoint), "meta": meta}, out)
    return out


def average_weights(checkpoints: list[str | Path], out: str | Path) -> Path:
    """The uniform average of every float tensor of runs that share a start (a model soup, Wortsman
    et al. 2022; train/EXPERIMENTS.md R22-R28): better on the choosing set than its members, and
    the anchor of E45. Integer buffers come from the last checkpoint."""
    if len(checkpoints) < 2:
        raise ValueError(f"a soup needs two checkpoints or more, got {len(checkpoints)}")
    states = [load_state_dict(c) for c in checkpoints]
    first = states[0]
    for path, state in zip(checkpoints[1:], states[1:]):
        if set(state) != set(first) or any(state[k].shape != first[k].shape for k in first):
            raise ValueError(f"{checkpoints[0]} and {path} are not the same network")
    soup = {k: sum(s[k] for s in states) / len(states) if first[k].is_floating_point() else states[-1][k]
            for k in first}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": soup, "meta": {"soup": [str(c) for c in checkpoints]}}, out)
    return out


def interpolate_weights(start: str | Path, finetuned: str | Path, alpha: float, out: str | Path) -> Path:
    """``alpha * finetuned + (1 - alpha) * start`` for every float tensor (WiSE-FT, Wortsman et al.
    2022): a fine-tuned network pulled back towards the one it started from keeps most of what it
    learned and less of what it forgot (train/EXPERIMENTS.md, E16b + WiSE). Integer buffers
    (BatchNorm's batch counters) come from ``finetuned``."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within [0, 1], got {alpha}")
    a, b = load_state_dict(start), load_state_dict(finetuned)
    if set(a) != set(b) or any(a[k].shape != b[k].shape for k in a):
        differ = sorted(set(a) ^ set(b)) or [k for k in a if a[k].shape != b[k].shape]
        raise ValueError(f"{start} and {finetuned} are not the same network (first difference: {differ[0]})")
    state = {k: alpha * b[k] + (1 - alpha) * a[k] if b[k].is_floating_point() else b[k] for k in b}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"interpolated": {"start": str(start), "finetuned": str(finetuned), "alpha": alpha}}
    torch.save({"state_dict": state, "meta": meta}, out)
    return out
