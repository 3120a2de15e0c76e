"""A progress bar without extra dependencies (tqdm when installed, a plain stderr line otherwise)."""
from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], total: int | None, desc: str, unit: str = "img") -> Iterator[T]:
    try:
        from tqdm import tqdm
    except ImportError:
        return _plain(items, total, desc, unit)
    return iter(tqdm(items, total=total, desc=desc, unit=unit, dynamic_ncols=True))


def _plain(items: Iterable[T], total: int | None, desc: str, unit: str) -> Iterator[T]:
    start, done = time.monotonic(), 0
    for item in items:
        yield item
        done += 1
        rate = done / max(time.monotonic() - start, 1e-9)
        sys.stderr.write(f"\r{desc}: {done}/{total or '?'} {unit} ({rate:.1f} {unit}/s)")
        sys.stderr.flush()
    sys.stderr.write("\n")
