"""Training-time transforms registered in MMSeg's TRANSFORMS registry: weather augmentation, and
a label transform that reconciles Cityscapes' labelling convention with CamVid's.

CamVid test's hardest frames are overcast winter streets (Seq05VD): a flat white sky behind bare
crowns, low contrast, sensor noise. ``PhotoMetricDistortion`` changes brightness, contrast and
colour globally; haze is different (it lifts the far, upper part of the frame towards the sky's own
grey, which is what makes sky and distant crowns alike), and blur and noise are what a moving,
cheap camera adds. The issue's recipe asks for them to be measured (train/EXPERIMENTS.md, E10).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from skyseg.labels import IGNORE, NOT_SKY, SKY


def in_splits(results: dict, splits: tuple[str, ...]) -> bool:
    """Whether a sample comes from one of ``splits`` (none named: every split), read from its path.

    A split is the folder above ``images/`` (``data/sky/<split>/images/x.jpg``).
    """
    return not splits or Path(results.get("img_path", "")).parent.parent.name in splits


@TRANSFORMS.register_module()
class RandomWeather(BaseTransform):
    """Haze, blur and noise, each applied with its own probability, to ``results['img']`` (uint8 BGR).

    Haze follows the atmospheric scattering model ``I = J t + A (1 - t)``, with the transmission
    ``t`` falling towards the top of the frame (farther away in a road scene) and a near-white,
    slightly blue airlight ``A``. Labels are untouched: none of these moves a pixel.
    """

    def __init__(self, haze_prob: float = 0.3, haze_range: tuple[float, float] = (0.15, 0.5),
                 blur_prob: float = 0.2, blur_sigma: tuple[float, float] = (0.5, 1.5),
                 noise_prob: float = 0.2, noise_sigma: tuple[float, float] = (2.0, 8.0)) -> None:
        for name, p in (("haze_prob", haze_prob), ("blur_prob", blur_prob), ("noise_prob", noise_prob)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {p}")
        if not 0.0 <= haze_range[0] <= haze_range[1] < 1.0:
            raise ValueError(f"haze_range must be 0 <= low <= high < 1, got {haze_range}")
        self.haze_prob, self.haze_range = haze_prob, haze_range
        self.blur_prob, self.blur_sigma = blur_prob, blur_sigma
        self.noise_prob, self.noise_sigma = noise_prob, noise_sigma

    def _haze(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h = img.shape[0]
        density = rng.uniform(*self.haze_range)  # 1 - t at the top of the frame
        top_to_bottom = np.linspace(1.0, rng.uniform(0.0, 0.6), h, dtype=np.float32)  # less haze nearby
        keep = (1.0 - density * top_to_bottom)[:, None, None]
        airlight = np.float32(rng.uniform(200, 245)) + np.float32([rng.uniform(0, 10), 0, 0])  # BGR: bluish
        return img.astype(np.float32) * keep + airlight * (1.0 - keep)

    def transform(self, results: dict) -> dict:
        rng = np.random.default_rng(np.random.randint(2**31))  # follows MMEngine's seeded global state
        img = results["img"]
        out = img.astype(np.float32)
        changed = False
        if rng.random() < self.haze_prob:
            out, changed = self._haze(img, rng), True
        if rng.random() < self.blur_prob:
            out, changed = cv2.GaussianBlur(out, (0, 0), rng.uniform(*self.blur_sigma)), True
        if rng.random() < self.noise_prob:
            out = out + rng.normal(0.0, rng.uniform(*self.noise_sigma), out.shape).astype(np.float32)
            changed = True
        if changed:
            results["img"] = np.clip(out, 0, 255).astype(img.dtype)
        return results

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(haze_prob={self.haze_prob}, haze_range={self.haze_range}, "
                f"blur_prob={self.blur_prob}, blur_sigma={self.blur_sigma}, "
                f"noise_prob={self.noise_prob}, noise_sigma={self.noise_sigma})")


@TRANSFORMS.register_module()
class IgnoreNearSky(BaseTransform):
    """Mark ``ignore`` the not-sky label within ``width`` px of the sky, in the named splits only.

    Cityscapes draws a tree canopy as one vegetation polygon, sky between its branches included;
    CamVid labels that sky as sky, and CamVid test's largest errors are such crowns. Without
    Cityscapes the network gains on every labelled set but loses the grey cloud undersides that
    Cityscapes' overcast skies taught (train/EXPERIMENTS.md, E11). Ignoring only the not-sky
    pixels that border Cityscapes' sky keeps its sky (the clouds) and its far-from-sky ground,
    and drops the one part of its labels that contradicts CamVid. Apply after ``LoadAnnotations``,
    before any resize (``width`` is in the original label's pixels).
    """

    def __init__(self, width: int = 32, splits: tuple[str, ...] = ()) -> None:
        if width < 1:
            raise ValueError(f"width must be at least 1 px, got {width}")
        self.width, self.splits = int(width), tuple(splits)
        self.kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * self.width + 1, 2 * self.width + 1))

    def transform(self, results: dict) -> dict:
        if not in_splits(results, self.splits):
            return results
        label = results["gt_seg_map"]
        sky = (label == SKY).astype(np.uint8)
        if sky.any():
            near = cv2.dilate(sky, self.kernel).astype(bool)
            label = label.copy()
            label[near & (label == NOT_SKY)] = IGNORE
            results["gt_seg_map"] = label
        return results

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(width={self.width}, splits={self.splits})"


#: Sky looks to recolour into, each a (zenith, horizon) pair of Lab colours (OpenCV's 8-bit Lab:
#: L 0..255, a and b centred on 128): clear blue, dusk, sunset, night, and a flat overcast grey.
SKY_LOOKS = {
    "blue": ((150, 135, 75), (225, 126, 115)),
    "dusk": ((70, 145, 95), (170, 150, 175)),
    "sunset": ((120, 160, 170), (215, 140, 200)),
    "night": ((25, 130, 105), (60, 132, 118)),
    "overcast": ((200, 128, 126), (225, 128, 128)),
}


@TRANSFORMS.register_module()
class SkyRecolor(BaseTransform):
    """Repaint the labelled sky in another sky's colours, keeping its texture and its real boundary.

    The served network learned sky from CamVid's and Cityscapes' overcast grey and misses blue,
    dusk and sunset skies (issue: "Sky on every outdoor photo"). Here the sky's own lightness
    variation (clouds, gradients) is kept around a new vertical Lab gradient from zenith to horizon,
    and the new colour is blended in through a slightly blurred matte of the sky label, so the
    seam is the photo's own edge, not a hard cut-out that a network could learn as a cue. Only
    ``prob`` of the images are changed; labels never are. Apply before PhotoMetricDistortion.
    """

    def __init__(self, prob: float = 0.3, looks: tuple[str, ...] = tuple(SKY_LOOKS), texture: float = 0.8,
                 feather: float = 1.5, min_sky: float = 0.02) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"prob must be within [0, 1], got {prob}")
        unknown = set(looks) - set(SKY_LOOKS)
        if unknown or not looks:
            raise ValueError(f"looks must name some of {sorted(SKY_LOOKS)}, got {looks}")
        self.prob, self.looks, self.texture, self.feather, self.min_sky = prob, tuple(looks), texture, feather, min_sky

    def transform(self, results: dict) -> dict:
        rng = np.random.default_rng(np.random.randint(2**31))  # follows MMEngine's seeded global state
        if rng.random() >= self.prob or "gt_seg_map" not in results:
            return results
        sky = results["gt_seg_map"] == SKY
        if sky.mean() < self.min_sky:
            return results
        results["img"] = recolor_sky(results["img"], sky, SKY_LOOKS[self.looks[rng.integers(len(self.looks))]],
                                     self.texture, self.feather, rng)
        return results

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(prob={self.prob}, looks={self.looks}, texture={self.texture})"


def recolor_sky(bgr: np.ndarray, sky: np.ndarray, look: tuple, texture: float, feather: float,
                rng: np.random.Generator) -> np.ndarray:
    """``bgr`` with its ``sky`` pixels repainted in ``look`` (zenith, horizon Lab), texture kept."""
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    rows = np.nonzero(sky.any(axis=1))[0]
    top, bottom = rows[0], rows[-1] + 1
    t = np.clip((np.arange(lab.shape[0], dtype=np.float32) - top) / max(bottom - top, 1), 0, 1)[:, None, None]
    zenith, horizon = (np.float32(c) + rng.normal(0, 6, 3).astype(np.float32) for c in look)
    gradient = zenith * (1 - t) + horizon * t  # [H, 1, 3]
    lightness = lab[..., 0]
    detail = lightness - lightness[sky].mean()
    new = np.broadcast_to(gradient, lab.shape).copy()
    new[..., 0] += texture * detail
    new[..., 1:] += 0.3 * (lab[..., 1:] - lab[..., 1:][sky].mean(axis=0))  # keep a little of the clouds' tint
    painted = cv2.cvtColor(np.clip(new, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR).astype(np.float32)
    matte = cv2.GaussianBlur(sky.astype(np.float32), (0, 0), feather)[..., None] * sky[..., None]
    out = bgr.copy()  # blended in BGR: pixels outside the sky keep their exact bytes
    out[sky] = np.clip(bgr[sky] * (1 - matte[sky]) + painted[sky] * matte[sky], 0, 255).astype(np.uint8)
    return out


@TRANSFORMS.register_module()
class SkySwap(BaseTransform):
    """Replace the labelled sky of a street frame with a real sky cut from a teacher-labelled photo.

    The human-labelled sets show overcast grey over streets; the teacher-labelled photos show blue,
    dusk and sunset skies over sea, fields and mountains, never beside a building. Pasting the
    second into the first (inside the human label, through a slightly feathered matte, so the seam
    is the photo's own edge) shows real sky textures next to facades, poles and crowns: the misses
    that remain on everyday photos (train/EXPERIMENTS.md, E19). Sources are the top rows of a
    source split's images whose label is sky across ``min_row_sky`` of each row; the source split
    sits beside the target's under the same data root (``<root>/<split>/{images,masks}``). Only
    ``prob`` of the ``splits`` images change; labels never do. Apply before PhotoMetricDistortion.
    """

    def __init__(self, prob: float = 0.3, sources: tuple[str, ...] = ("sun_outdoor",),
                 splits: tuple[str, ...] = (), min_rows: int = 24, min_row_sky: float = 0.95,
                 feather: float = 1.5, min_sky: float = 0.02, tries: int = 4) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"prob must be within [0, 1], got {prob}")
        if not sources:
            raise ValueError("sources must name at least one split of sky photos")
        self.prob, self.sources, self.splits = prob, tuple(sources), tuple(splits)
        self.min_rows, self.min_row_sky, self.feather = int(min_rows), float(min_row_sky), float(feather)
        self.min_sky, self.tries = float(min_sky), int(tries)
        self._pool: dict[Path, list[tuple[Path, Path]]] = {}  # data root -> (image, label) pairs

    def _pairs(self, root: Path) -> list[tuple[Path, Path]]:
        """The sources' image/label pairs under ``root``, listed once per worker."""
        if root not in self._pool:
            pairs = []
            for split in self.sources:
                for label in sorted((root / split / "masks").glob("*.png")):
                    image = root / split / "images" / f"{label.stem}.jpg"
                    if image.is_file():
                        pairs.append((image, label))
            if not pairs:
                raise FileNotFoundError(f"SkySwap found no sky photos in {[str(root / s) for s in self.sources]}")
            self._pool[root] = pairs
        return self._pool[root]

    def _sky_strip(self, rng: np.random.Generator, root: Path) -> np.ndarray | None:
        """The all-sky top rows of a random source photo, or None after ``tries`` without one."""
        pairs = self._pairs(root)
        for _ in range(self.tries):
            image, label = pairs[rng.integers(len(pairs))]
            rows = sky_rows(cv2.imread(str(label), cv2.IMREAD_UNCHANGED) == SKY, self.min_row_sky)
            if rows >= self.min_rows:
                bgr = cv2.imread(str(image), cv2.IMREAD_COLOR)
                if bgr is not None:
                    return bgr[:rows]
        return None

    def transform(self, results: dict) -> dict:
        rng = np.random.default_rng(np.random.randint(2**31))  # follows MMEngine's seeded global state
        path = Path(results.get("img_path", ""))
        if rng.random() >= self.prob or "gt_seg_map" not in results:
            return results
        if not in_splits(results, self.splits):
            return results
        sky = results["gt_seg_map"] == SKY
        if sky.mean() < self.min_sky:
            return results
        strip = self._sky_strip(rng, path.parent.parent.parent)
        if strip is not None:
            results["img"] = paste_sky(results["img"], sky, strip, self.feather, rng)
        return results

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(prob={self.prob}, sources={self.sources}, splits={self.splits})"


def sky_rows(sky: np.ndarray, min_row_sky: float) -> int:
    """How many rows from the top are each at least ``min_row_sky`` sky."""
    full = sky.mean(axis=1) >= min_row_sky
    return int(np.argmin(full)) if not full.all() else len(full)


def paste_sky(bgr: np.ndarray, sky: np.ndarray, strip: np.ndarray, feather: float,
              rng: np.random.Generator) -> np.ndarray:
    """``bgr`` with ``strip`` scaled to cover the bounding box of ``sky`` and blended into it."""
    rows, cols = np.nonzero(sky.any(axis=1))[0], np.nonzero(sky.any(axis=0))[0]
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    h, w = bottom - top, right - left
    scale = max(h / strip.shape[0], w / strip.shape[1])
    size = (max(w, int(np.ceil(strip.shape[1] * scale))), max(h, int(np.ceil(strip.shape[0] * scale))))
    cover = cv2.resize(strip, size, interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        cover = cover[:, ::-1]
    y, x = rng.integers(size[1] - h + 1), rng.integers(size[0] - w + 1)
    canvas = bgr.astype(np.float32)
    canvas[top:bottom, left:right] = cover[y:y + h, x:x + w]
    matte = cv2.GaussianBlur(sky.astype(np.float32), (0, 0), feather)[..., None] * sky[..., None]
    out = bgr.copy()  # pixels outside the sky keep their exact bytes
    out[sky] = np.clip(bgr[sky] * (1 - matte[sky]) + canvas[sky] * matte[sky], 0, 255).astype(np.uint8)
    return out


@TRANSFORMS.register_module()
class UpwardView(BaseTransform):
    """Re-frame a street frame as if the camera were tilted up: less road, converging facades.

    The street sets are shot level from a car: the horizon sits mid-frame and the sky is a wide band
    above it. The photos people take of cities look up: facades lean inwards towards the top and the
    sky is a narrow, often washed-out wedge between them, which the network calls wall
    (ade20k_dev's misses; train/EXPERIMENTS.md, E24). This keeps the frame's top ``1 - cut`` rows
    (``cut`` drawn from ``cut_range``) and narrows its bottom row by ``tilt`` of the width on each
    side (drawn from ``tilt_range``), a perspective warp stretched back to the input's size. Only
    ``prob`` of the ``splits`` images change; image and label move together, so the labelled
    boundary stays the real one. Apply after ``LoadAnnotations``, before any resize or crop.
    """

    def __init__(self, prob: float = 0.3, splits: tuple[str, ...] = (),
                 cut_range: tuple[float, float] = (0.2, 0.5), tilt_range: tuple[float, float] = (0.05, 0.2)) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"prob must be within [0, 1], got {prob}")
        if not 0.0 <= cut_range[0] <= cut_range[1] < 1.0:
            raise ValueError(f"cut_range must be within [0, 1) and ordered, got {cut_range}")
        if not 0.0 <= tilt_range[0] <= tilt_range[1] < 0.5:
            raise ValueError(f"tilt_range must be within [0, 0.5) and ordered, got {tilt_range}")
        self.prob, self.splits = prob, tuple(splits)
        self.cut_range, self.tilt_range = tuple(cut_range), tuple(tilt_range)

    def transform(self, results: dict) -> dict:
        rng = np.random.default_rng(np.random.randint(2**31))  # follows MMEngine's seeded global state
        if rng.random() >= self.prob or "gt_seg_map" not in results:
            return results
        if not in_splits(results, self.splits):
            return results
        h, w = results["img"].shape[:2]
        warp = upward_warp(h, w, rng.uniform(*self.cut_range), rng.uniform(*self.tilt_range))
        results["img"] = cv2.warpPerspective(results["img"], warp, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                             borderMode=cv2.BORDER_REPLICATE)
        results["gt_seg_map"] = cv2.warpPerspective(results["gt_seg_map"], warp, (w, h),
                                                    flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                                                    borderMode=cv2.BORDER_CONSTANT, borderValue=IGNORE)
        return results

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(prob={self.prob}, splits={self.splits}, "
                f"cut_range={self.cut_range}, tilt_range={self.tilt_range})")


def upward_warp(h: int, w: int, cut: float, tilt: float) -> np.ndarray:
    """The output-to-source homography: output corners onto the source's top rows, bottom narrowed.

    Every output pixel maps inside the source (the source quadrilateral is the top ``1 - cut`` of
    the frame with its bottom edge pulled in by ``tilt * w`` on each side), so nothing is invented.
    """
    out = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    bottom = (h - 1) * (1.0 - cut)
    src = np.float32([[0, 0], [w - 1, 0], [(w - 1) * (1.0 - tilt), bottom], [(w - 1) * tilt, bottom]])
    return cv2.getPerspectiveTransform(out, src)
