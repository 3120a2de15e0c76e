"""The machine a result was measured on, recorded beside it: the same CPU model name can hide CPUs
whose INT8 speed differs by 1.7x."""
from __future__ import annotations

import os
import platform
from pathlib import Path

#: The instruction sets that move these numbers: INT8 convolutions run about 1.7x faster with VNNI
#: (B 58 -> 100 images/s at 1080p on two "AMD EPYC" cores of either kind), and a virtual machine's
#: model name alone does not tell the two apart (benchmarks/RESULTS.md).
SIMD_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def simd_flags(cpuinfo_lines: list[str]) -> list[str]:
    """The ``SIMD_FLAGS`` this CPU reports in /proc/cpuinfo, in that order."""
    flags = set(next((l.split(":", 1)[1].split() for l in cpuinfo_lines if l.startswith("flags")), []))
    return [f for f in SIMD_FLAGS if f in flags]


def cpu_family_model(cpuinfo_lines: list[str]) -> str:
    """'family F model M' from /proc/cpuinfo: tells CPU generations apart behind one model name."""
    fields = {l.split(":", 1)[0].strip(): l.split(":", 1)[1].strip() for l in cpuinfo_lines[:30] if ":" in l}
    return f"family {fields.get('cpu family', '?')} model {fields.get('model', '?')}"


def machine() -> dict:
    """CPU model, family/model, SIMD flags, usable cores, platform, Python and host name."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("model name")), platform.processor())
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    return {"cpu": cpu, "cpu_family_model": cpu_family_model(lines), "simd": simd_flags(lines), "nproc": nproc,
            "cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "hostname": platform.node()}
