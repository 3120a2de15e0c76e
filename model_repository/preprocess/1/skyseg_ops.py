"""Pure numpy/OpenCV image ops shared by the Triton Python models and the offline eval paths.

This file is the single implementation of decode -> letterbox -> normalise and of
logits -> full-resolution mask. The Python models import it from their own folder (symlinks in
``preprocess_raw`` and ``postprocess`` point here); ``skyseg.ops`` loads it for ONNX Runtime and
PyTorch evaluation, so every path computes the same thing.
"""
from __future__ import annotations

import ctypes
import functools
import struct
from typing import Sequence, Tuple

import cv2
import numpy as np

#: glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 128 << 20) -> bool:
    """Make glibc keep freed buffers for the next request instead of handing them to the kernel.

    A 1080p mask's buffers (2 MB each) are above glibc's mmap threshold, so every request mapped
    fresh pages and faulted on each one: ~980 page faults and 1.5 core-ms of kernel time per
    request in postprocess, half its cost (benchmarks/RESULTS.md). Served from a heap that is not
    trimmed below ``trim_threshold``, the pages stay mapped; a stub's memory stays at its
    high-water mark instead. Buffers above ``mmap_threshold`` (a 64 MP frame) are still returned.
    Process-wide, so only the Triton stubs call it. False where the C library is not glibc.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))


#: (original_h, original_w, resized_h, resized_w): what postprocess needs to undo the letterbox.
Geometry = Tuple[int, int, int, int]


class BadImageError(ValueError):
    """The request's image cannot be used; the message is sent back to the caller."""


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> Tuple[int, int]:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            raise ValueError("bad JPEG marker")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01,) or 0xD0 <= marker <= 0xD9:  # markers without a length
            i += 2
            continue
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    raise ValueError("no JPEG frame header")


def image_size(data: bytes) -> Tuple[str, int, int]:
    """(format, width, height) from the header alone, so size limits apply before any allocation."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return ("PNG",) + struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":
        return ("JPEG",) + _jpeg_size(data)
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return "BMP", abs(width), abs(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return ("WebP", 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little"))
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return "WebP", 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return "WebP", width & 0x3FFF, height & 0x3FFF
    raise ValueError("not a JPEG, PNG, BMP or WebP file")


def _check_header(data: bytes, input_name: str, max_pixels: int, max_bytes: int) -> Tuple[str, int, int]:
    if len(data) == 0:
        raise BadImageError(f"{input_name} is empty (0 bytes)")
    if len(data) > max_bytes:
        raise BadImageError(f"{input_name} is {len(data)} bytes, more than the configured limit of {max_bytes}")
    try:
        kind, width, height = image_size(data)
    except (ValueError, struct.error) as exc:
        head = bytes(data[:8]).hex()
        raise BadImageError(f"{input_name} could not be decoded: {len(data)} bytes starting {head} "
                            f"are not a complete JPEG, PNG, BMP or WebP image ({exc})") from None
    if width * height > max_pixels:
        raise BadImageError(f"{input_name} is a {kind} of {width}x{height} pixels, more than the configured "
                            f"limit of {max_pixels}; refused before decoding")
    return kind, width, height


def _imdecode(data: bytes, input_name: str, flags: int) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if bgr is None:
        head = bytes(data[:8]).hex()
        raise BadImageError(f"{input_name} could not be decoded: {len(data)} bytes starting {head} "
                            "are not a complete JPEG, PNG, BMP or WebP image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def decode_image(data: bytes, input_name: str = "IMAGE", max_pixels: int = 64_000_000,
                 max_bytes: int = 64 << 20) -> np.ndarray:
    """Encoded bytes -> RGB uint8 HxWx3. EXIF orientation is applied, as viewers show the image.

    Grey, alpha, 16-bit and palette images are converted to 8-bit RGB. Only JPEG, PNG, BMP and
    WebP are accepted, and the header's size is checked against ``max_pixels`` before decoding,
    so a tiny file declaring a huge image (a decompression bomb) costs nothing.
    """
    _check_header(data, input_name, max_pixels, max_bytes)
    return _imdecode(data, input_name, cv2.IMREAD_COLOR)


#: How much smaller than the model's input a reduced JPEG decode may be (it is then upscaled).
MAX_DECODE_UPSCALE = 1.125
_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def decode_for_model(data: bytes, input_hw: Sequence[int], input_name: str = "IMAGE",
                     max_pixels: int = 64_000_000, max_bytes: int = 64 << 20) -> Tuple[np.ndarray, Tuple[int, int]]:
    """(RGB, original (h, w)): a JPEG much larger than the model input is decoded at 1/2, 1/4 or 1/8.

    libjpeg scales in the DCT domain, so a 1080p frame for a 512-wide model decodes several times
    faster and arrives already low-passed; the letterbox then resizes it to the same size as from
    the full decode, and the mask is returned at the original size. The reduced image may be up
    to ``MAX_DECODE_UPSCALE`` smaller than the model's input (1080p at 1/4 is 270 rows for a 288-row
    canvas): that decodes 1080p in 2.5 instead of 3.2 ms and moved no IoU (RESULTS.md).
    """
    kind, width, height = _check_header(data, input_name, max_pixels, max_bytes)
    # EXIF may swap the sides, so the factor must keep both orientations at least the input size.
    scale = max(min(input_hw[0] / height, input_hw[1] / width), min(input_hw[0] / width, input_hw[1] / height))
    factor = next((f for f in (8, 4, 2) if f * scale <= MAX_DECODE_UPSCALE), 1) if kind == "JPEG" else 1
    if factor == 1:
        rgb = _imdecode(data, input_name, cv2.IMREAD_COLOR)
        return rgb, rgb.shape[:2]
    rgb = _imdecode(data, input_name, _REDUCED[factor])
    reduced = (-(-height // factor), -(-width // factor))  # libjpeg rounds the scaled size up
    if rgb.shape[:2] == reduced:
        return rgb, (height, width)
    if rgb.shape[:2] == reduced[::-1]:  # rotated by its EXIF orientation
        return rgb, (width, height)
    rgb = _imdecode(data, input_name, cv2.IMREAD_COLOR)  # a layout we cannot map back: decode fully
    return rgb, rgb.shape[:2]


def check_frame(frame: np.ndarray, input_name: str = "FRAME") -> np.ndarray:
    """Validate a decoded RGB frame (H, W, 3) uint8."""
    if frame.dtype != np.uint8:
        raise BadImageError(f"{input_name} must be UINT8, got {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] < 1 or frame.shape[1] < 1:
        raise BadImageError(f"{input_name} must have shape [H, W, 3], got {list(frame.shape)}")
    return frame


def fit(original_hw: Sequence[int], input_hw: Sequence[int]) -> Tuple[int, int]:
    """(h, w) of the image scaled, aspect kept, to fit inside the model's (H, W) input box."""
    in_h, in_w = int(input_hw[0]), int(input_hw[1])
    h, w = int(original_hw[0]), int(original_hw[1])
    scale = min(in_h / h, in_w / w)
    return max(1, min(in_h, int(h * scale + 0.5))), max(1, min(in_w, int(w * scale + 0.5)))


def canvas_size(resized_hw: Sequence[int], input_hw: Sequence[int], size_divisor: int = 0) -> Tuple[int, int]:
    """The tensor the network sees: the resized image padded up to a multiple of ``size_divisor``
    (MMSeg's test-time ``size_divisor``), or the whole input box when it is 0.

    A 16:9 frame in a 384x512 box becomes a 288x512 tensor instead of 384x512 with 96 rows of
    padding: a quarter less network compute for the same pixels.
    """
    if size_divisor <= 0:
        return int(input_hw[0]), int(input_hw[1])
    return tuple(min(int(box), -(-int(side) // size_divisor) * size_divisor)  # type: ignore[return-value]
                 for side, box in zip(resized_hw, input_hw))


def letterbox(rgb: np.ndarray, input_hw: Sequence[int], mean: np.ndarray, std: np.ndarray,
              out: np.ndarray | None = None, original_hw: Sequence[int] | None = None,
              guide: np.ndarray | None = None) -> Tuple[np.ndarray, Geometry]:
    """Resize keeping the aspect ratio into the top-left of a canvas and normalise to CHW.

    The canvas is ``out``'s (C, H, W) when given, else the whole input box (:func:`prepare` sizes
    it to the image with :func:`canvas_size`). The padding is 0 after
    normalisation (the mean colour), as MMSeg pads its batches. ``original_hw`` is the size the
    mask must come back at when ``rgb`` was decoded reduced; ``guide``, a uint8 canvas, receives
    the grey letterboxed image for :func:`refine`.
    """
    h, w = (int(v) for v in (original_hw if original_hw is not None else rgb.shape[:2]))
    rh, rw = fit((h, w), input_hw)
    resized = cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_LINEAR) if rgb.shape[:2] != (rh, rw) else rgb
    if out is None:
        out = np.zeros((3, int(input_hw[0]), int(input_hw[1])), dtype=np.float32)
    elif rh < out.shape[1] or rw < out.shape[2]:
        out.fill(0.0)
    # One fused uint8 -> (x - mean) / std pass per channel, written straight into the CHW canvas:
    # 10x cheaper than numpy's astype / subtract / multiply / transpose (2.2 -> 0.2 ms at 288x512).
    for c, plane in enumerate(cv2.split(resized)):
        scale = 1.0 / float(std[c])
        cv2.addWeighted(plane, scale, plane, 0.0, -float(mean[c]) * scale, dst=out[c, :rh, :rw], dtype=cv2.CV_32F)
    if guide is not None:
        guide.fill(0)
        guide[:rh, :rw] = cv2.cvtColor(resized, cv2.COLOR_RGB2GRAY)
    return out, (h, w, rh, rw)


def prepare(rgb: np.ndarray, input_hw: Sequence[int], mean: np.ndarray, std: np.ndarray,
            original_hw: Sequence[int] | None = None,
            size_divisor: int = 0) -> Tuple[np.ndarray, Geometry, np.ndarray]:
    """(tensor, geometry, guide) for one image in freshly allocated arrays: the offline paths' call."""
    resized_hw = fit(original_hw if original_hw is not None else rgb.shape[:2], input_hw)
    canvas = canvas_size(resized_hw, input_hw, size_divisor)
    guide = np.empty(canvas, dtype=np.uint8)
    tensor, geometry = letterbox(rgb, input_hw, mean, std, out=np.empty((3, *canvas), dtype=np.float32),
                                 original_hw=original_hw, guide=guide)
    return tensor, geometry, guide


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
           sky_index: int = 1, radius: int = 24, eps: float = 1e-3, subsample: int = 1,
           trust: Sequence[float] | None = None, learned: Sequence[float] | None = None,
           cascade: Sequence[float] | None = None) -> np.ndarray:
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
    refined, margin, small_grey, grey = guided_refinement(logits, guide, geometry, canvas_hw, sky_index,
                                                          radius, eps, subsample, trust)
    if learned:
        index, columns = _band_columns(refined, margin, small_grey, grey, subsample)
        z = _learned_logit(columns, learned)
        if cascade:
            _apply_cascade(z, columns, guide, geometry, index, cascade)
        refined = _apply_learned(refined, index, z)
    refined *= 255.0
    return refined.astype(np.uint8)


def guided_refinement(logits: np.ndarray, guide: np.ndarray, geometry: Sequence[int], canvas_hw: Sequence[int],
                      sky_index: int = 1, radius: int = 24, eps: float = 1e-3, subsample: int = 1,
                      trust: Sequence[float] | None = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`refine`'s guided filter: (refined probability and grey at the input resolution, both
    (rh, rw) in 0..1, and the coarse grid's logit margin and grey that the learned step reads)."""
    _, _, rh, rw = (int(v) for v in geometry)
    in_h, in_w = int(canvas_hw[0]), int(canvas_hw[1])
    s = max(1, int(subsample))
    small = (-(-in_w // s), -(-in_h // s))  # (w, h) of the coefficient grid: the canvas over s
    crop_h, crop_w = -(-rh // s), -(-rw // s)
    margin = cv2.resize(_sky_margin(logits, sky_index), small, interpolation=cv2.INTER_LINEAR)[:crop_h, :crop_w]
    probability = (1.0 / (1.0 + cv2.exp(-margin))).astype(np.float32)
    canvas_grey = guide.astype(np.float32)
    canvas_grey *= np.float32(1.0 / 255.0)
    small_grey = canvas_grey if s == 1 else cv2.resize(canvas_grey, small, interpolation=cv2.INTER_AREA)
    small_grey = small_grey[:crop_h, :crop_w]
    a, b = _guided_coefficients(small_grey, probability, max(1, int(radius) // s), float(eps))
    if trust is not None and float(trust[0]) < 1.0:
        a, b = _trust_confident(a, b, probability, trust)
    grey = canvas_grey[:rh, :rw]
    refined = _from_coarse(a, s, (rh, rw)) * grey + _from_coarse(b, s, (rh, rw))
    np.clip(refined, 0.0, 1.0, out=refined)
    return refined, margin, small_grey, grey


def logits_to_mask(logits: np.ndarray, geometry: Sequence[int], canvas_hw: Sequence[int],
                   sky_index: int = 1, guide: np.ndarray | None = None, refine_radius: int = 0,
                   refine_eps: float = 1e-3, refine_subsample: int = 1,
                   refine_trust: Sequence[float] | None = None,
                   refine_learned: Sequence[float] | None = None,
                   refine_cascade: Sequence[float] | None = None) -> np.ndarray:
    """(C, h, w) logits at the model's output stride -> uint8 mask (0/255) at the original size.

    ``canvas_hw`` is the (H, W) of the tensor the network saw (:func:`canvas_size`).

    With a ``guide`` and ``refine_radius > 0`` the probability is first refined at the input
    resolution (:func:`refine`), then upsampled as uint8. Without, the sky-minus-best-other logit
    margin is upsampled: bilinear upsampling is linear, so thresholding it at 0 equals upsampling
    every channel and taking the argmax (for two classes), at a fraction of the cost; one affine
    warp maps each original pixel centre straight into the logit grid (align_corners=False).
    """
    orig_h, orig_w, rh, rw = (int(v) for v in geometry)
    if guide is not None and refine_radius > 0:
        probability = refine(logits, guide, geometry, canvas_hw, sky_index, refine_radius, refine_eps,
                             refine_subsample, refine_trust, refine_learned, refine_cascade)
        if probability.shape != (orig_h, orig_w):
            probability = cv2.resize(probability, (orig_w, orig_h), interpolation=cv2.INTER_LINEAR)
        return cv2.threshold(probability, 127, 255, cv2.THRESH_BINARY)[1]
    margin = _sky_margin(logits, sky_index)
    stride_y = canvas_hw[0] / logits.shape[1]
    stride_x = canvas_hw[1] / logits.shape[2]
    ky, kx = (rh / orig_h) / stride_y, (rw / orig_w) / stride_x
    matrix = np.array([[kx, 0.0, 0.5 * kx - 0.5], [0.0, ky, 0.5 * ky - 0.5]], dtype=np.float64)
    upsampled = cv2.warpAffine(margin, matrix, (orig_w, orig_h),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)
    return cv2.threshold(upsampled, 0.0, 255.0, cv2.THRESH_BINARY)[1].astype(np.uint8)


def pack_mask(masks: np.ndarray) -> np.ndarray:
    """(..., H, W) 0/255 masks -> (..., H, ceil(W/8)) bits, rows packed MSB first: the wire's
    MASK_BITS (skyseg_client.protocol), 8x fewer bytes through Triton and the socket."""
    return np.packbits(masks, axis=-1)
