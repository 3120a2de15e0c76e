"""Edge-aware refinement of the network's coarse sky probability: a guided filter, then a learned
re-decision of the uncertain band (a logistic, then a small MLP cascade). Its settings are one
:class:`Refinement`, fitted with the network and carried by the contract."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence, Tuple

import cv2
import numpy as np


@dataclass(frozen=True)
class Refinement:
    """What the postprocess does between the network's logits and the mask; ``radius`` 0 = nothing.

    ``radius`` and ``eps``: the guided filter's window (input pixels) and regulariser; ``subsample``:
    its coefficients are fitted on a grid this many times coarser (He's fast guided filter);
    ``trust`` (low, high): the network's own probability is kept where its confidence ``|2p - 1|`` is
    at ``high`` or above, the filter's at ``low`` or below, (1, 1) = the filter everywhere; ``learned``:
    one weight per :data:`LEARNED_FEATURES` (``skyseg fit-refine``), empty = off; ``cascade``: the MLP
    that re-decides where the learned step is least sure, as the flat vector :func:`cascade_layers`
    reads (``skyseg fit-refine --cascade``), empty = off.
    """

    radius: int = 0
    eps: float = 1e-3
    subsample: int = 1
    trust: Tuple[float, float] = (1.0, 1.0)
    learned: Tuple[float, ...] = ()
    cascade: Tuple[float, ...] = ()

    def __post_init__(self) -> None:
        trust = tuple(float(v) for v in self.trust)
        if len(trust) != 2 or not (trust[0] >= 1.0 or 0.0 <= trust[0] < trust[1] <= 1.0):
            raise ValueError(f"refinement trust must be (low, high) with 0 <= low < high <= 1, got {self.trust}")
        if self.learned and len(self.learned) != len(LEARNED_FEATURES):
            raise ValueError(f"refinement learned needs {len(LEARNED_FEATURES)} weights "
                             f"({', '.join(LEARNED_FEATURES)}), got {len(self.learned)}")
        if self.cascade and not self.learned:
            raise ValueError("the refinement cascade re-decides part of the learned step's band: it needs learned weights")
        object.__setattr__(self, "trust", trust)
        object.__setattr__(self, "learned", tuple(float(v) for v in self.learned))
        object.__setattr__(self, "cascade", tuple(float(v) for v in self.cascade))
        if self.cascade:
            cascade_layers(self.cascade)  # raises, naming the mismatch, if it does not fit the features

    @property
    def enabled(self) -> bool:
        return self.radius > 0


def _sky_margin(logits: np.ndarray, sky_index: int) -> np.ndarray:
    """Sky logit minus the best other class: > 0 where sky wins the argmax."""
    others = np.delete(logits, sky_index, axis=0)
    return np.ascontiguousarray(logits[sky_index] - others.max(axis=0), dtype=np.float32)


def _guided_coefficients(guide: np.ndarray, source: np.ndarray, radius: int,
                         eps: float) -> Tuple[np.ndarray, np.ndarray]:
    """He et al.'s grey-guided filter as its box-averaged linear coefficients: ``source`` smoothed
    with ``guide``'s edges is ``a * guide + b`` (float32 in, out)."""
    window = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, window, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(guide), box(source)
    var_i = box(guide * guide) - mean_i * mean_i
    cov_ip = box(guide * source) - mean_i * mean_p
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a), box(b)


def _trust_confident(a: np.ndarray, b: np.ndarray, probability: np.ndarray,
                     trust: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """The filter's ``a * grey + b`` with the network's own probability folded back in where the
    network is sure (confidence ``|2p - 1|`` at ``trust[1]`` or above; none at ``trust[0]`` or below).

    The filter's local linear model leaks across any window holding sky and non-sky of similar grey:
    fed a perfect 1/8-resolution network it scores 93.5 CamVid IoU where plain upsampling scores 94.7
    (`skyseg eval --oracle 8`), so it may only act in the uncertain band along the boundary. Folded
    into the coefficients, it costs nothing at the input resolution: ``(1-w) a * grey + (1-w) b + w p``.
    """
    low, high = float(trust[0]), float(trust[1])
    weight = np.abs(2.0 * probability - 1.0)
    weight -= low
    weight *= 1.0 / (high - low)
    np.clip(weight, 0.0, 1.0, out=weight)
    keep = 1.0 - weight
    return a * keep, b * keep + weight * probability


#: The learned refinement's per-pixel features, in the order of its weights (``sky_refine.learned``;
#: train/EXPERIMENTS.md, R11). "contrast" is grey minus its local box mean: 5 px, and ~20 px
#: (LEARNED_CONTEXT_PX, taken on the coarse grid).
LEARNED_FEATURES = ("margin", "refined", "grey", "contrast5", "contrast20",
                    "refined*grey", "margin*grey", "refined*contrast20", "bias")
LEARNED_CONTEXT_PX = 20


def _from_coarse(x: np.ndarray, subsample: int, out_hw: Sequence[int]) -> np.ndarray:
    """A coarse-grid map (``subsample`` times smaller) back at the input resolution, cropped to
    ``out_hw``: how the fast guided filter's coefficients and the learned step's smooth terms return."""
    if subsample > 1:
        x = cv2.resize(x, (x.shape[1] * subsample, x.shape[0] * subsample), interpolation=cv2.INTER_LINEAR)
    return x[:out_hw[0], :out_hw[1]]


def _band_columns(refined: np.ndarray, margin: np.ndarray, small_grey: np.ndarray, grey: np.ndarray,
                  subsample: int) -> Tuple[np.ndarray, Tuple[np.ndarray, ...]]:
    """(flat indices [N] into the (rh, rw) plane, (margin, refined, grey, contrast5, contrast20) [N]
    each): the band's pixels and the learned step's base terms there, from which every feature
    of ``LEARNED_FEATURES`` is a product."""
    s = max(1, int(subsample))
    m = _from_coarse(np.clip(margin, -8.0, 8.0) * np.float32(0.125), s, grey.shape)
    r = refined - np.float32(0.5)
    index = np.flatnonzero((np.abs(r) < np.float32(0.48)) | (np.abs(m) < np.float32(0.375)))
    k = max(1, LEARNED_CONTEXT_PX // s) | 1
    g = grey.reshape(-1)[index]
    contrast5 = g - cv2.blur(grey, (5, 5)).reshape(-1)[index]
    contrast20 = g - _from_coarse(cv2.blur(small_grey, (k, k)), s, grey.shape).reshape(-1)[index]
    return index, (m.reshape(-1)[index], r.reshape(-1)[index], g, contrast5, contrast20)


def learned_features(refined: np.ndarray, margin: np.ndarray, small_grey: np.ndarray, grey: np.ndarray,
                     subsample: int) -> Tuple[np.ndarray, np.ndarray]:
    """(features [N, len(LEARNED_FEATURES)] float32, flat indices [N] into the (rh, rw) plane) of the
    uncertain band's pixels: the only pixels the learned step changes, and the ones it is fitted on.

    ``refined``/``grey``: (rh, rw) floats in 0..1; ``margin``/``small_grey``: the coarse grid's sky
    logit margin and grey. The band is where the guided filter is unsure (0.02..0.98) or the network
    is (|margin| < 3): 1-3% of a canvas on an open sky, ~8-11% on CamVid's tree-lined streets, so the
    features are gathered there instead of computed as whole planes. The smooth terms come from the
    coarse grid, so only a 5x5 box mean runs at the input resolution. The server does not stack
    this matrix: :func:`_learned_logit` evaluates the same weighted sum term by term.
    """
    index, columns = _band_columns(refined, margin, small_grey, grey, subsample)
    terms = _learned_terms(columns)
    return np.stack([*terms, np.ones_like(terms[0])], axis=1), index


def _learned_terms(columns: Tuple[np.ndarray, ...]) -> Tuple[np.ndarray, ...]:
    """``LEARNED_FEATURES`` but the bias, from ``_band_columns``' base terms: what the logistic's
    fit and the cascade read (the served logistic groups the same sum in :func:`_learned_logit`)."""
    m, r, g, c5, c20 = columns
    return m, r, g, c5, c20, r * g, m * g, r * c20


def _learned_logit(columns: Tuple[np.ndarray, ...], weights: Sequence[float]) -> np.ndarray:
    """``learned_features(...) @ weights`` without the [N, 9] matrix, grouped by base term: the
    learned step 0.98 -> 0.73 ms on a 1080p CamVid image's band of 24k pixels. Its order is
    LEARNED_FEATURES' (a test holds the two equal)."""
    m, r, g, c5, c20 = columns
    w = [np.float32(v) for v in weights]
    z = m * (w[0] + w[6] * g)
    z += r * (w[1] + w[5] * g + w[7] * c20)
    z += w[2] * g
    z += w[3] * c5
    z += w[4] * c20
    z += w[8]
    return z


def _apply_learned(refined: np.ndarray, index: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The band's pixels set to sigmoid(z); the guided filter's value elsewhere."""
    out = np.ascontiguousarray(refined)  # so that the flat view below writes into it
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += np.float32(1.0)
    out.reshape(-1)[index] = np.reciprocal(z, out=z)
    return out


#: The cascade's extra inputs (train/EXPERIMENTS.md, R16): how far the grey rises above and falls
#: below each band pixel within these windows, so that a pixel is compared with the branches and
#: the sky around it. The cascade reads ``CASCADE_FEATURES``: R11's features without the bias, then these.
CASCADE_WINDOWS = (5, 9, 17)
CASCADE_FEATURES = LEARNED_FEATURES[:-1] + tuple(f"{kind}{k}" for k in CASCADE_WINDOWS for kind in ("rise", "fall"))


@functools.lru_cache(maxsize=4)
def cascade_layers(vector: Tuple[float, ...]) -> Tuple[float, Tuple[np.ndarray, ...]]:
    """(cut, (w1, b1, w2, b2, w3, b3)) from the flat ``sky_refine.cascade`` vector: ``cut``, the
    input and hidden widths, then each layer's weights (out x in, row-major) and biases, the
    features' standardisation folded into the first layer. Parsed once per distinct vector."""
    cut, n_in, hidden = float(vector[0]), int(vector[1]), int(vector[2])
    if n_in != len(CASCADE_FEATURES):
        raise ValueError(f"sky_refine.cascade reads {n_in} features; this server computes "
                         f"{len(CASCADE_FEATURES)} ({', '.join(CASCADE_FEATURES)})")
    shapes = [(hidden, n_in), (hidden,), (hidden, hidden), (hidden,), (hidden,), (1,)]
    expected = 3 + sum(int(np.prod(shape)) for shape in shapes)
    if len(vector) != expected:
        raise ValueError(f"sky_refine.cascade of {n_in} inputs and {hidden} hidden units needs {expected} "
                         f"values, got {len(vector)}")
    flat, arrays, at = np.asarray(vector[3:], dtype=np.float32), [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        arrays.append(np.ascontiguousarray(flat[at:at + size].reshape(shape)))
        at += size
    w1, b1, w2, b2, w3, b3 = arrays
    return cut, (np.ascontiguousarray(w1.T), b1, np.ascontiguousarray(w2.T), b2, w3, b3)


def cascade_features(columns: Tuple[np.ndarray, ...], guide: np.ndarray, index: np.ndarray) -> np.ndarray:
    """[N, len(CASCADE_FEATURES)] float32 for the band pixels ``index`` (flat into ``guide``'s
    (rh, rw) plane) whose ``_band_columns`` are ``columns``. The local max / min run on the uint8
    grey (a rectangle's dilation is separable and cheap there), gathered at the pixels only."""
    terms = _learned_terms(columns)
    g = columns[2]
    out = np.empty((len(g), len(CASCADE_FEATURES)), dtype=np.float32)
    for j, column in enumerate(terms):
        out[:, j] = column
    j = len(terms)
    for k in CASCADE_WINDOWS:
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
        for local, sign in ((cv2.dilate(guide, kernel), 1.0), (cv2.erode(guide, kernel), -1.0)):
            out[:, j] = local.reshape(-1)[index]
            out[:, j] *= np.float32(sign / 255.0)
            out[:, j] -= np.float32(sign) * g
            j += 1
    return out


def cascade_logit(features: np.ndarray, layers: Tuple[np.ndarray, ...]) -> np.ndarray:
    """The cascade MLP (two ReLU layers) on [N, F] features: [N] logits."""
    w1, b1, w2, b2, w3, b3 = layers
    h = features @ w1
    h += b1
    np.maximum(h, 0.0, out=h)
    h2 = h @ w2
    h2 += b2
    np.maximum(h2, 0.0, out=h2)
    z = h2 @ w3
    z += b3
    return z


def cascade_rows(z: np.ndarray, columns: Tuple[np.ndarray, ...], guide: np.ndarray, geometry: Sequence[int],
                 index: np.ndarray, cut: float) -> Tuple[np.ndarray, np.ndarray]:
    """(rows of the band [M], their cascade features [M, F]) where R11's logit ``z`` is within
    +-``cut``: the pixels the cascade re-decides (served) and is fitted on (``skyseg fit-refine``)."""
    near = np.flatnonzero(np.abs(z) < np.float32(cut))
    _, _, rh, rw = (int(v) for v in geometry)
    picked = tuple(column[near] for column in columns)
    return near, cascade_features(picked, np.ascontiguousarray(guide[:rh, :rw]), index[near])


def _apply_cascade(z: np.ndarray, columns: Tuple[np.ndarray, ...], guide: np.ndarray, geometry: Sequence[int],
                   index: np.ndarray, cascade: Sequence[float]) -> None:
    """Where R11's logit ``z`` is within +-cut (its least sure ~40% of the band), the MLP's instead."""
    cut, layers = cascade_layers(tuple(cascade))
    near, features = cascade_rows(z, columns, guide, geometry, index, cut)
    if len(near):
        z[near] = cascade_logit(features, layers)


def refine(logits: np.ndarray, guide: np.ndarray, geometry: Sequence[int], canvas_hw: Sequence[int],
           sky_index: int, settings: Refinement) -> np.ndarray:
    """Sky probability at the model's input resolution, snapped to the image's edges (uint8 0..255).

    The network predicts at 1/8 resolution, so its upsampled boundary is blurred over ~8 px; an
    edge-aware guided filter of the probability, guided by the letterboxed grey image, moves it
    back onto the image's edges (the refinement of Google's "Sky Optimization"). With
    ``subsample`` s > 1 it is He's *fast* guided filter: the smooth coefficients are fitted on an
    s-times smaller grid and only ``a * guide + b`` runs at the input resolution (s=4: 0.4 ms
    instead of 2 ms at 288x512, the same IoU; train/EXPERIMENTS.md R3). With ``trust`` (low, high)
    the network's own probability is kept where it is confident (:func:`_trust_confident`, R8);
    with ``learned`` weights a logistic regression re-decides the uncertain band (R11), and with a
    ``cascade`` (R16) a small MLP re-decides the part of it where that regression is least sure.
    """
    refined, margin, small_grey, grey = guided_refinement(logits, guide, geometry, canvas_hw, sky_index, settings)
    if settings.learned:
        index, columns = _band_columns(refined, margin, small_grey, grey, settings.subsample)
        z = _learned_logit(columns, settings.learned)
        if settings.cascade:
            _apply_cascade(z, columns, guide, geometry, index, settings.cascade)
        refined = _apply_learned(refined, index, z)
    refined *= 255.0
    return refined.astype(np.uint8)


def guided_refinement(logits: np.ndarray, guide: np.ndarray, geometry: Sequence[int], canvas_hw: Sequence[int],
                      sky_index: int, settings: Refinement) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`refine`'s guided filter: (refined probability and grey at the input resolution, both
    (rh, rw) in 0..1, and the coarse grid's logit margin and grey that the learned step reads)."""
    _, _, rh, rw = (int(v) for v in geometry)
    in_h, in_w = int(canvas_hw[0]), int(canvas_hw[1])
    s = max(1, int(settings.subsample))
    small = (-(-in_w // s), -(-in_h // s))  # (w, h) of the coefficient grid: the canvas over s
    crop_h, crop_w = -(-rh // s), -(-rw // s)
    margin = cv2.resize(_sky_margin(logits, sky_index), small, interpolation=cv2.INTER_LINEAR)[:crop_h, :crop_w]
    probability = (1.0 / (1.0 + cv2.exp(-margin))).astype(np.float32)
    canvas_grey = guide.astype(np.float32)
    canvas_grey *= np.float32(1.0 / 255.0)
    small_grey = canvas_grey if s == 1 else cv2.resize(canvas_grey, small, interpolation=cv2.INTER_AREA)
    small_grey = small_grey[:crop_h, :crop_w]
    a, b = _guided_coefficients(small_grey, probability, max(1, int(settings.radius) // s), float(settings.eps))
    if settings.trust[0] < 1.0:
        a, b = _trust_confident(a, b, probability, settings.trust)
    grey = canvas_grey[:rh, :rw]
    refined = _from_coarse(a, s, (rh, rw)) * grey + _from_coarse(b, s, (rh, rw))
    np.clip(refined, 0.0, 1.0, out=refined)
    return refined, margin, small_grey, grey
