"""Process-wide allocator settings for the Triton Python stubs."""
from __future__ import annotations

import ctypes

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

