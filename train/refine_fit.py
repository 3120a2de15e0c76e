"""Fit the learned refinement (train/EXPERIMENTS.md, R11): a logistic regression over
``ops.LEARNED_FEATURES`` on the uncertain-band pixels of the *training* splits, with the network's
logits as the server computes them. Its weights go into the training config's
``sky_refine.learned``, from where ``skyseg export`` / ``build-repo`` carry them to the server.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from skyseg import ops
from skyseg.contract import Contract

from .labels import IGNORE, SKY

L2 = 1e-4  #: ridge on the weights: the features are correlated (grey appears in four of them)


def band_samples(run_logits: Callable[[np.ndarray], np.ndarray], contract: Contract,
                 pairs: Sequence[tuple[Path, Path]], per_image: int = 3000,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(features [N, F], sky [N]) from up to ``per_image`` labelled band pixels of each image."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for image, label_path in tqdm(pairs, desc="band pixels", unit="img"):
        rgb, original_hw = ops.decode_for_model(Path(image).read_bytes(), contract.input_hw)
        tensor, geometry, guide = ops.prepare(rgb, contract, original_hw)
        logits = run_logits(tensor[None])[0]
        features, index = ops.learned_inputs(logits, geometry, guide, contract)
        _, _, rh, rw = (int(v) for v in geometry)
        label = cv2.resize(cv2.imread(str(label_path), cv2.IMREAD_UNCHANGED), (rw, rh),
                           interpolation=cv2.INTER_NEAREST).reshape(-1)[index]
        rows = np.flatnonzero(label != IGNORE)
        if len(rows) > per_image:
            rows = rng.choice(rows, per_image, replace=False)
        xs.append(features[rows])
        ys.append((label[rows] == SKY).astype(np.float32))
    return np.concatenate(xs), np.concatenate(ys)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2) -> np.ndarray:
    """Weights minimising the mean logistic loss plus ``l2`` * |w|^2 (L-BFGS, float64)."""
    import torch

    xt, yt = torch.from_numpy(x.astype(np.float64)), torch.from_numpy(y.astype(np.float64))
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([w], max_iter=500, tolerance_grad=1e-9, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w, yt) + l2 * (w * w).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return w.detach().numpy()


def config_line(weights: np.ndarray) -> str:
    values = ", ".join(f"{v:.4f}" for v in weights)
    return f"learned=({values})  # {', '.join(ops.LEARNED_FEATURES)}"
