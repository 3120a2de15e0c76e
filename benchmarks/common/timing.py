"""How every timed path is measured and reported: latencies of a closed loop, the summary each
result file stores, and ratios printed rounded down."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Timing:
    path: str
    size: str
    latencies_ms: list[float] = field(repr=False)
    wall_s: float
    note: str = ""
    reported: dict | None = None  #: perf_analyzer's own infer/s and percentiles (no raw latencies)

    def summary(self) -> dict:
        if self.reported is not None:
            return {"path": self.path, "size": self.size, "images": None, "wall_s": None, "note": self.note,
                    "images_per_s": self.reported["infer_per_s"], "p50_ms": self.reported["p50_ms"],
                    "p99_ms": self.reported["p99_ms"]}
        lat = np.asarray(self.latencies_ms) if self.latencies_ms else np.zeros(1)
        return {"path": self.path, "size": self.size, "images": len(self.latencies_ms), "wall_s": self.wall_s,
                "images_per_s": len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0,
                "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)), "note": self.note}


def timed_loop(call: Callable[[int], None], seconds: float, minimum: int) -> tuple[list[float], float]:
    """Call ``call(i)`` back to back for ``seconds`` (at least ``minimum`` times); latencies in ms, wall s."""
    latencies, start = [], time.perf_counter()
    i = 0
    while i < minimum or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        call(i)
        latencies.append(1000 * (time.perf_counter() - t))
        i += 1
    return latencies, time.perf_counter() - start


def percent_down(ratio: float) -> str:
    """A ratio as a percentage rounded down: a 79.96% run must not print as 80.0%."""
    return f"{math.floor(1000 * ratio) / 10:.1f}%"
