"""Evaluate sky masks from any of three paths on converted datasets.

* ``checkpoint``: the PyTorch network, * ``onnx``: the exported model in ONNX Runtime,
* ``server``: the running Triton ensemble (JPEG bytes in, mask out: what users get).

The offline paths use the serving ops (letterbox, logits -> mask), so differences between paths
measure the model conversion and the server, not different preprocessing.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from skyseg import ops, pipeline
from skyseg.contract import Contract

from skyseg.labels import IGNORE, SKY
from .metrics import SkyCounts

MaskPredictor = Callable[[Sequence[Path]], Iterator[np.ndarray]]  # 0/255 masks at the image size


def dataset_pairs(data_root: Path, name: str) -> list[tuple[Path, Path]]:
    images = sorted((data_root / name / "images").glob("*.jpg"))
    if not images:
        raise FileNotFoundError(f"no images in {data_root / name / 'images'}; run `skyseg prepare-data`")
    return [(p, data_root / name / "masks" / f"{p.stem}.png") for p in images]


def _with_flip(run_logits: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """Test-time augmentation: the mean of the logits of the image and of its mirror image."""
    def run(x: np.ndarray) -> np.ndarray:
        mirrored = run_logits(np.ascontiguousarray(x[..., ::-1]))[..., ::-1]
        return (run_logits(x) + mirrored) / 2
    return run


def _offline_predictor(contract: Contract, run_logits: Callable[[np.ndarray], np.ndarray],
                       flip: bool = False) -> MaskPredictor:
    if flip:
        run_logits = _with_flip(run_logits)

    def predict(paths: Sequence[Path]) -> Iterator[np.ndarray]:
        for path in paths:
            rgb, original_hw = ops.decode_for_model(Path(path).read_bytes(), contract.input_hw)
            tensor, geometry, guide = pipeline.prepare(rgb, contract, original_hw)
            yield pipeline.to_mask(run_logits(tensor[None])[0], geometry, guide, contract)
    return predict


def onnx_predictor(onnx_path: Path, contract: Contract, threads: int = 0, flip: bool = False) -> MaskPredictor:
    from skyseg.convert.parity import ort_session

    session = ort_session(onnx_path, threads)
    name = session.get_inputs()[0].name
    return _offline_predictor(contract, lambda x: session.run(None, {name: x})[0], flip)


def checkpoint_predictor(config: Path, checkpoint: Path, contract: Contract, flip: bool = False) -> MaskPredictor:
    import torch

    from skyseg.convert.network import build_network

    net = build_network(config, checkpoint)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(x)).numpy()
    return _offline_predictor(contract, run, flip)


def _label_of(path: Path, flag: str) -> np.ndarray:
    """The converted label beside a converted image (``<split>/masks/<stem>.png``), for the oracles."""
    label_path = path.parent.parent / "masks" / f"{path.stem}.png"
    label = cv2.imread(str(label_path), cv2.IMREAD_UNCHANGED)
    if label is None:
        raise FileNotFoundError(f"{flag} needs the label of {path.name}: {label_path} is missing or unreadable")
    return label


def oracle_predictor(contract: Contract, stride: int) -> MaskPredictor:
    """A perfect network at output stride ``stride``: each cell's true sky fraction as its
    probability, through the served post-processing. Its score is that post-processing's ceiling,
    what no better network could beat (train/EXPERIMENTS.md, R8)."""
    def predict(paths: Sequence[Path]) -> Iterator[np.ndarray]:
        for path in paths:
            path = Path(path)
            rgb, original_hw = ops.decode_for_model(path.read_bytes(), contract.input_hw)
            tensor, geometry, guide = pipeline.prepare(rgb, contract, original_hw)
            label = _label_of(path, "--oracle")
            _, _, rh, rw = (int(v) for v in geometry)
            sky = np.zeros(tensor.shape[1:], np.float32)
            sky[:rh, :rw] = cv2.resize((label == SKY).astype(np.float32), (rw, rh), interpolation=cv2.INTER_AREA)
            grid = (sky.shape[1] // stride, sky.shape[0] // stride)
            p = np.clip(cv2.resize(sky, grid, interpolation=cv2.INTER_AREA), 0.02, 0.98)
            logits = np.zeros((len(contract.classes), *p.shape), np.float32)
            logits[contract.sky_index] = np.log(p / (1.0 - p))  # sky minus the others = logit(p)
            yield pipeline.to_mask(logits, geometry, guide, contract)
    return predict


def band_oracle_predictor(onnx_path: Path, contract: Contract, fraction: bool = False,
                          threads: int = 0) -> MaskPredictor:
    """The real network through the served post-processing, except that each pixel of the uncertain
    band the learned step re-decides takes its label (ignored pixels keep the learned value): a
    perfect classifier of the band at the input resolution, with the labels as ``fit-refine`` reads
    them (nearest pixel), or with ``fraction`` the true sky fraction of each pixel, the ceiling of
    any band probability (train/EXPERIMENTS.md, R15)."""
    if not contract.refine.learned:
        raise ValueError("--oracle-band needs the learned refinement (sky_refine.learned) in the config")
    from skyseg.convert.parity import ort_session

    session = ort_session(onnx_path, threads)
    name = session.get_inputs()[0].name
    weights = np.float32(contract.refine.learned)

    def predict(paths: Sequence[Path]) -> Iterator[np.ndarray]:
        for path in paths:
            path = Path(path)
            rgb, original_hw = ops.decode_for_model(path.read_bytes(), contract.input_hw)
            tensor, geometry, guide = pipeline.prepare(rgb, contract, original_hw)
            logits = session.run(None, {name: tensor[None]})[0][0]
            refined, margin, small_grey, grey = ops.guided_refinement(
                logits, guide, geometry, guide.shape, contract.sky_index, contract.refine)
            features, index = ops.learned_features(refined, margin, small_grey, grey, contract.refine.subsample)
            orig_h, orig_w, rh, rw = (int(v) for v in geometry)
            label = _label_of(path, "--oracle-band")
            size, interpolation = (rw, rh), cv2.INTER_AREA if fraction else cv2.INTER_NEAREST
            sky = cv2.resize((label == SKY).astype(np.float32), size, interpolation=interpolation)
            known = cv2.resize((label != IGNORE).astype(np.float32), size, interpolation=interpolation)
            sky, known = sky.reshape(-1)[index], known.reshape(-1)[index]
            band = 1.0 / (1.0 + np.exp(-(features @ weights)))
            labelled = known > 0
            band[labelled] = sky[labelled] / known[labelled]
            probability = np.ascontiguousarray(refined)
            probability.reshape(-1)[index] = band
            probability = cv2.resize((probability * 255.0).astype(np.uint8), (orig_w, orig_h),
                                     interpolation=cv2.INTER_LINEAR)
            yield cv2.threshold(probability, 127, 255, cv2.THRESH_BINARY)[1]
    return predict


def server_predictor(url: str, protocol: str = "grpc", in_flight: int = 4) -> MaskPredictor:
    from skyseg_client import SkySegClient

    def predict(paths: Sequence[Path]) -> Iterator[np.ndarray]:
        with SkySegClient(url, protocol=protocol, max_in_flight=in_flight) as client:
            for start in range(0, len(paths), 32):  # bounded memory, requests still overlap
                yield from client.segment_many(list(paths[start:start + 32]))
    return predict


@dataclass(order=True)
class Miss:
    """One image of the worst few: what the contact sheet shows."""

    iou: float
    image: Path = field(compare=False)
    label: np.ndarray = field(compare=False, repr=False)
    mask: np.ndarray = field(compare=False, repr=False)


def evaluate(predict: MaskPredictor, pairs: Sequence[tuple[Path, Path]], desc: str = "eval",
             worst: list[Miss] | None = None, keep: int = 8) -> SkyCounts:
    """Accumulate the metrics; with ``worst`` given, it collects the ``keep`` lowest-IoU images."""
    counts = SkyCounts()
    masks = predict([image for image, _ in pairs])
    for (image, label_path), mask in tqdm(zip(pairs, masks, strict=True), total=len(pairs), desc=desc, unit="img"):
        label = cv2.imread(str(label_path), cv2.IMREAD_UNCHANGED)
        counts.add(mask == 255, label, Path(image).stem)
        if worst is not None:
            heapq.heappush(worst, Miss(-counts.per_image_iou[-1], image, label, mask))
            if len(worst) > keep:
                heapq.heappop(worst)  # drops the best of the kept
    return counts


def contact_sheet(misses: Sequence[Miss], out: Path, row_height: int = 180) -> Path:
    """Image | truth | prediction for each miss, worst first, as one PNG."""
    from skyseg_client import overlay

    rows = []
    for miss in sorted(misses, key=lambda m: -m.iou):  # iou is stored negated: worst first
        image = cv2.imread(str(miss.image), cv2.IMREAD_COLOR)
        truth = overlay(image, np.where(miss.label == SKY, 255, 0).astype(np.uint8), color=(80, 200, 80))
        truth[miss.label == IGNORE] //= 3  # ignored pixels shown dark
        tiles = [image, truth, overlay(image, miss.mask)]
        scale = row_height / image.shape[0]
        row = np.hstack([cv2.resize(t, (max(1, round(t.shape[1] * scale)), row_height)) for t in tiles])
        cv2.putText(row, f"{miss.image.name}  IoU {100 * -miss.iou:.1f}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5, (255, 255, 255), 1, cv2.LINE_AA)
        rows.append(row)
    width = max(r.shape[1] for r in rows)
    sheet = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows])
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), sheet)
    return out
