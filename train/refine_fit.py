"""Fit the learned refinement (train/EXPERIMENTS.md, R11): a logistic regression over
``ops.LEARNED_FEATURES`` on the uncertain-band pixels of the *training* splits, with the network's
logits as the server computes them. Its weights go into the training config's
``sky_refine.learned``, from where ``skyseg export`` / ``build-repo`` carry them to the server.
Then, optionally, R16's cascade: a small MLP on ``ops.CASCADE_FEATURES`` for the band pixels
where that regression is least sure, written as a JSON file that ``sky_refine.cascade`` names.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from skyseg import ops, pipeline
from skyseg.contract import Contract

from skyseg.labels import IGNORE, SKY

L2 = 1e-4  #: ridge on the weights: the features are correlated (grey appears in four of them)
#: the cascade re-decides band pixels whose logistic logit is within +-CASCADE_CUT: ~40% of the
#: band, where the MLP over the whole band wins its gain (EXPERIMENTS.md R15) at ~40% of its cost
CASCADE_CUT = 2.0
CASCADE_HIDDEN = 16  #: units in each of the MLP's two hidden layers (32: no better, R13)


def band_samples(run_logits: Callable[[np.ndarray], np.ndarray], contract: Contract,
                 pairs: Sequence[tuple[Path, Path]], per_image: int = 3000,
                 seed: int = 0, learned: Sequence[float] | None = None,
                 cut: float = CASCADE_CUT) -> tuple[np.ndarray, np.ndarray]:
    """(features [N, F], sky [N]) from up to ``per_image`` labelled band pixels of each image: the
    logistic's features, or with ``learned`` weights the cascade's where their logit is within +-cut."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for image, label_path in tqdm(pairs, desc="cascade pixels" if learned else "band pixels", unit="img"):
        rgb, original_hw = ops.decode_for_model(Path(image).read_bytes(), contract.input_hw)
        tensor, geometry, guide = pipeline.prepare(rgb, contract, original_hw)
        logits = run_logits(tensor[None])[0]
        if learned:
            features, index = pipeline.cascade_inputs(logits, geometry, guide, contract, learned, cut)
        else:
            features, index = pipeline.learned_inputs(logits, geometry, guide, contract)
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


def fit_cascade(x: np.ndarray, y: np.ndarray, hidden: int = CASCADE_HIDDEN, epochs: int = 8,
                seed: int = 0) -> list[np.ndarray]:
    """[w1, b1, w2, b2, w3, b3] of an MLP (two ReLU layers) minimising the logistic loss (Adam,
    one-cycle, batches of 4096), with the features' standardisation folded into w1, b1."""
    import torch

    torch.manual_seed(seed)
    mean, std = x.mean(0), x.std(0) + 1e-6
    xt, yt = torch.from_numpy((x - mean) / std), torch.from_numpy(y.astype(np.float32))
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(),
                              torch.nn.Linear(hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
    optimizer = torch.optim.Adam(net.parameters(), 3e-3)
    batch = min(4096, len(y))
    steps = len(y) // batch
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 1e-2, total_steps=epochs * steps)
    generator = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(epochs), desc="cascade epochs", unit="epoch"):
        order = torch.randperm(len(y), generator=generator)
        for i in range(steps):
            rows = order[i * batch:(i + 1) * batch]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xt[rows])[:, 0], yt[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    w1, b1, w2, b2, w3, b3 = (p.detach().double().numpy() for p in net.parameters())
    w1 = w1 / std  # so that the server feeds raw features
    b1 = b1 - w1 @ mean
    return [w1, b1, w2, b2, w3[0], b3]


def cascade_vector(layers: Sequence[np.ndarray], cut: float = CASCADE_CUT) -> list[float]:
    """The flat form ``ops.cascade_layers`` reads: cut, input and hidden widths, then the layers."""
    w1 = layers[0]
    return [float(cut), float(w1.shape[1]), float(w1.shape[0])] + \
        [float(v) for layer in layers for v in np.ravel(layer)]


def write_cascade(path: Path, layers: Sequence[np.ndarray], cut: float = CASCADE_CUT, **provenance) -> Path:
    """The JSON file ``sky_refine.cascade`` names: the vector, its features and where it came from."""
    payload = {"features": list(ops.CASCADE_FEATURES), "cut": float(cut), "hidden": int(layers[0].shape[0]),
               **provenance}
    vector = ", ".join(f"{v:.6g}" for v in cascade_vector(layers, cut))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1)[:-2] + f',\n "vector": [{vector}]\n}}\n')
    return path
