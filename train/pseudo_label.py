"""Soft sky labels from a teacher ONNX model, for photos no human labelled (``skyseg pseudo-label``).

The teacher (``../shared/teachers/sky_u2netp``) knows blue, sunset, dusk and night skies over land
and sea that the street datasets never show; its probabilities become training labels where it is
confident (:func:`skyseg.train.convert_data.convert_pseudo`). Its preprocessing is the one its
README gives, so its recorded scores hold for what is written here.

Output, per image ``<folder>/<rel>.jpg``: ``<out>/prob/<rel>.png`` (sky probability x 255) and
``<out>/confidence/<rel>.png`` (``|2p - 1|`` x 255). ``<out>/teacher.json`` records the teacher's
SHA-256: a rerun skips images already written by the same teacher (resume), and refuses to mix in
labels of another one.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from .convert_data import images_under

#: The teacher README's recipe: ImageNet statistics (RGB, 0..255), a 320x320 square input.
TEACHER_SIZE = 320
TEACHER_MEAN = np.float32([0.485, 0.456, 0.406]) * 255
TEACHER_STD = np.float32([0.229, 0.224, 0.225]) * 255
PYRDOWN_ABOVE = 768  #: halve the image while both sides exceed this (the README's step 1)


def teacher_input(bgr: np.ndarray) -> np.ndarray:
    """One image as the teacher's float32 [3, 320, 320] input."""
    while min(bgr.shape[:2]) > PYRDOWN_ABOVE:
        bgr = cv2.pyrDown(bgr)
    rgb = cv2.resize(bgr, (TEACHER_SIZE, TEACHER_SIZE), interpolation=cv2.INTER_LINEAR)[..., ::-1]
    return ((rgb.astype(np.float32) - TEACHER_MEAN) / TEACHER_STD).transpose(2, 0, 1)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Teacher:
    """The teacher network in ONNX Runtime; :meth:`predict` returns the probability at image size."""

    def __init__(self, onnx: Path, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def predict(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Sky probability in 0..1 (float32, each image's own H x W) for a batch of BGR images."""
        batch = np.stack([teacher_input(image) for image in images])
        prob = self.session.run(None, {self.input: batch})[0][:, 0]
        return [cv2.resize(p, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR).clip(0, 1)
                for p, image in zip(prob, images)]


def find_images(folders: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(root, image) for every image below each folder, recursively, in a stable order."""
    found = []
    for root in folders:
        if not root.is_dir():
            raise FileNotFoundError(f"image folder {root} not found")
        found += [(root, p) for p in images_under(root)]
    return found


@dataclass(frozen=True)
class LabelPaths:
    """Where one image's soft label and confidence map go."""

    prob: Path
    confidence: Path

    @classmethod
    def under(cls, out: Path, rel: Path) -> "LabelPaths":
        return cls(out / "prob" / rel.with_suffix(".png"), out / "confidence" / rel.with_suffix(".png"))

    def done(self) -> bool:
        return self.prob.exists() and self.confidence.exists()


def _check_teacher(out: Path, onnx: Path) -> None:
    """One teacher per output folder: a resumed run must be the same model."""
    record = out / "teacher.json"
    digest = sha256(onnx)
    if record.exists():
        earlier = json.loads(record.read_text())
        if earlier["sha256"] != digest:
            raise ValueError(f"{out} holds labels of another teacher ({earlier['onnx']}, sha256 "
                             f"{earlier['sha256'][:12]}...); write to another --out or delete it")
        return
    out.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"onnx": str(onnx), "sha256": digest, "input": TEACHER_SIZE,
                                  "pyrdown_above": PYRDOWN_ABOVE}, indent=2))


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def label_folders(onnx: Path, folders: Sequence[Path], out: Path, batch: int = 8,
                  threads: int = 0) -> dict[str, int]:
    """Write soft labels for every image under ``folders`` (paths kept relative to each folder's
    parent, so ``sun_unlabelled/outdoor`` writes ``prob/outdoor/...``); skips finished ones."""
    _check_teacher(out, onnx)
    todo, skipped, unreadable = [], 0, 0
    for root, image in find_images(folders):
        paths = LabelPaths.under(out, image.relative_to(root.parent))
        if paths.done():
            skipped += 1
        else:
            todo.append((image, paths))
    teacher = Teacher(onnx, threads) if todo else None
    bar = tqdm(total=len(todo), desc="pseudo-label", unit="img")
    for chunk in _batches(todo, batch):
        images = [(cv2.imread(str(path), cv2.IMREAD_COLOR), paths) for path, paths in chunk]
        readable = [(img, paths) for img, paths in images if img is not None]
        unreadable += len(images) - len(readable)
        for prob, (_, paths) in zip(teacher.predict([img for img, _ in readable]), readable):
            paths.prob.parent.mkdir(parents=True, exist_ok=True)
            paths.confidence.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(paths.prob), np.rint(prob * 255).astype(np.uint8))
            cv2.imwrite(str(paths.confidence), np.rint(np.abs(2 * prob - 1) * 255).astype(np.uint8))
        bar.update(len(chunk))
    bar.close()
    return {"labelled": len(todo) - unreadable, "skipped (already labelled)": skipped, "unreadable": unreadable}


def score_against_labels(prob_dir: Path, masks_dir: Path, threshold: float = 0.5):
    """The teacher's sky counts against human labels (``masks_dir``: 0 not sky, 1 sky, 255 ignore),
    image by image, as :class:`~skyseg.train.metrics.SkyCounts`."""
    from .metrics import SkyCounts

    counts = SkyCounts()
    masks = sorted(masks_dir.glob("*.png"))
    if not masks:
        raise FileNotFoundError(f"no label PNGs in {masks_dir}")
    probs = {p.name: p for p in prob_dir.rglob("*.png")}  # one walk of the tree, not one per label
    for mask_path in masks:
        prob_path = probs.get(mask_path.name)
        if prob_path is None:
            raise FileNotFoundError(f"no teacher label for {mask_path.name} under {prob_dir}")
        label = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        sky = cv2.imread(str(prob_path), cv2.IMREAD_GRAYSCALE) >= round(threshold * 255)
        counts.add(sky, label, name=mask_path.stem)
    return counts
