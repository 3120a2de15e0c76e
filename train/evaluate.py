"""Evaluate sky masks from any of three paths on converted datasets.

* ``checkpoint``: the PyTorch network, * ``onnx``: the exported model in ONNX Runtime,
* ``server``: the running Triton ensemble (JPEG bytes in, mask out: what users get).

The offline paths use the serving ops (letterbox, logits -> mask), so differences between paths
measure the model conversion and the server, not different preprocessing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from skyseg import ops
from skyseg.contract import Contract

from .metrics import SkyCounts

MaskPredictor = Callable[[Sequence[Path]], Iterator[np.ndarray]]  # 0/255 masks at the image size


def dataset_pairs(data_root: Path, name: str) -> list[tuple[Path, Path]]:
    images = sorted((data_root / name / "images").glob("*.jpg"))
    if not images:
        raise FileNotFoundError(f"no images in {data_root / name / 'images'}; run `skyseg prepare-data`")
    return [(p, data_root / name / "masks" / f"{p.stem}.png") for p in images]


def _offline_predictor(contract: Contract, run_logits: Callable[[np.ndarray], np.ndarray]) -> MaskPredictor:
    mean, std = np.float32(contract.mean), np.float32(contract.std)

    def predict(paths: Sequence[Path]) -> Iterator[np.ndarray]:
        for path in paths:
            rgb = ops.decode_image(Path(path).read_bytes())
            tensor, geometry = ops.letterbox(rgb, contract.input_hw, mean, std)
            yield ops.logits_to_mask(run_logits(tensor[None])[0], geometry, contract.input_hw,
                                     contract.sky_index)
    return predict


def onnx_predictor(onnx_path: Path, contract: Contract, threads: int = 0) -> MaskPredictor:
    from skyseg.convert.parity import ort_session

    session = ort_session(onnx_path, threads)
    name = session.get_inputs()[0].name
    return _offline_predictor(contract, lambda x: session.run(None, {name: x})[0])


def checkpoint_predictor(config: Path, checkpoint: Path, contract: Contract) -> MaskPredictor:
    import torch

    from skyseg.convert.network import build_network

    net = build_network(config, checkpoint)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(x)).numpy()
    return _offline_predictor(contract, run)


def server_predictor(url: str, protocol: str = "grpc", in_flight: int = 4) -> MaskPredictor:
    from skyseg_client import SkySegClient

    def predict(paths: Sequence[Path]) -> Iterator[np.ndarray]:
        with SkySegClient(url, protocol=protocol, max_in_flight=in_flight) as client:
            for start in range(0, len(paths), 32):  # bounded memory, requests still overlap
                yield from client.segment_many(list(paths[start:start + 32]))
    return predict


def evaluate(predict: MaskPredictor, pairs: Sequence[tuple[Path, Path]], desc: str = "eval") -> SkyCounts:
    counts = SkyCounts()
    masks = predict([image for image, _ in pairs])
    for (_, label_path), mask in tqdm(zip(pairs, masks, strict=True), total=len(pairs), desc=desc, unit="img"):
        label = cv2.imread(str(label_path), cv2.IMREAD_UNCHANGED)
        counts.add(mask == 255, label)
    return counts
