"""B, the compute floor: the served ONNX network alone in ONNX Runtime, on the tensors the server's
preprocess would build, in the repository's own instance layout (read from its config.pbtxt)."""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common.timing import Timing, timed_loop


@dataclass(frozen=True)
class NetworkLayout:
    """The served network's ONNX file and CPU layout, as the repository's config.pbtxt gives them."""

    onnx: Path
    instances: int
    threads: int  #: ORT intra-op threads per instance (0 in the config = ORT's default, taken as 1 here)


def network_layout(repository: Path) -> NetworkLayout:
    """B runs the file and layout the server runs, read from the repository, not assumed."""
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2 as mc

    network = text_format.Parse((repository / "bisenetv2" / "config.pbtxt").read_text(), mc.ModelConfig())
    return NetworkLayout(repository / "bisenetv2" / "1" / network.parameters["onnx_file"].string_value,
                         network.instance_group[0].count,
                         max(int(network.parameters["intra_op_threads"].string_value or 0), 1))


def served_tensors(files: Sequence[Path], contract) -> list[np.ndarray]:
    """The tensors the server's preprocess would build for these images (same canvas)."""
    from skyseg import pipeline

    return [pipeline.prepare(cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB), contract)[0] for f in files]


def bench_onnx(onnx_path: Path, contract, files: Sequence[Path], size: str, seconds: float,
               batch: int = 1) -> Timing:
    """The network alone on the tensors the server would feed it (same canvas), ORT's defaults."""
    from skyseg.convert.parity import ort_session

    session = ort_session(onnx_path)
    tensors = served_tensors(files, contract)
    batches = [np.stack([tensors[(i + k) % len(tensors)] for k in range(batch)]) for i in range(len(tensors))]
    for x in batches[:2]:
        session.run(None, {"input": x})
    latencies, wall = timed_loop(lambda i: session.run(None, {"input": batches[i % len(batches)]}), seconds,
                                 len(batches))
    per_image = [t / batch for t in latencies for _ in range(batch)]  # images/s counts every image
    return Timing("B", size, per_image, wall, note=f"batch {batch}, canvas {'x'.join(map(str, tensors[0].shape[1:]))}")


def bench_onnx_parallel(onnx_path: Path, contract, files: Sequence[Path], size: str, seconds: float,
                        sessions: int, threads: int = 1, batch: int = 1) -> Timing:
    """The server's layout without the server: ``sessions`` loops side by side, each with its own
    ORT session of ``threads`` threads (ORT releases the GIL while it runs), ``batch`` images per
    call (the server's network step stacks the requests its dynamic batcher hands it)."""
    from skyseg.convert.parity import ort_session

    singles = served_tensors(files, contract)
    tensors = [np.stack([singles[(i + k) % len(singles)] for k in range(batch)]) for i in range(len(singles))]
    pool = [ort_session(onnx_path, threads) for _ in range(sessions)]
    for session in pool:
        session.run(None, {"input": tensors[0]})
    latencies: list[list[float]] = [[] for _ in pool]
    start = time.perf_counter()

    def loop(k: int) -> None:
        calls, _ = timed_loop(lambda i: pool[k].run(None, {"input": tensors[(i + k) % len(tensors)]}), seconds, 1)
        latencies[k] = [t / batch for t in calls for _ in range(batch)]  # images/s counts every image

    workers = [threading.Thread(target=loop, args=(k,)) for k in range(sessions)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    return Timing("B", size, [t for lat in latencies for t in lat], wall,
                  note=f"{sessions} sessions x {threads} thread, batch {batch}")
