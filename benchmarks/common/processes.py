"""CPU time and resident memory of the server's processes, read with psutil: tritonserver and the
Python-backend stubs it starts (its children), each named by the model it serves."""
from __future__ import annotations

import resource
from pathlib import Path

import psutil


def process_tree(root_pid: int) -> list[psutil.Process]:
    """``root_pid`` and all its descendants: the Python stubs are tritonserver's children."""
    root = psutil.Process(root_pid)
    return [root, *root.children(recursive=True)]


def process_label(process: psutil.Process) -> str:
    """A Python stub by the model it serves (its ``.../<model>/<version>/model.py`` argument), any
    other process by its binary; the pid where the process is gone or unreadable."""
    try:
        args = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return str(process.pid)
    model = next((a.split("/")[-3] for a in args if a.endswith("model.py")), None)
    return model or (Path(args[0]).name if args else str(process.pid))


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU time the process has used so far, in core-seconds (its own threads, not
    its children: a tree is read process by process)."""
    times = process.cpu_times()
    return times.user + times.system


def rss_bytes(process: psutil.Process) -> int:
    """Resident memory of the process, in bytes (VmRSS)."""
    return process.memory_info().rss


def own_cpu_seconds() -> float:
    """User + system CPU time of this process (the client), in core-seconds; getrusage counts
    microseconds where /proc counts clock ticks, which matters for a client's few ms per image."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_by_process(root_pid: int) -> dict[str, int]:
    """Resident bytes of every process of the tree, keyed ``'<label> (<pid>)'``; a process that
    exits between listing and reading is left out."""
    sample = {}
    for process in process_tree(root_pid):
        try:
            sample[f"{process_label(process)} ({process.pid})"] = rss_bytes(process)
        except psutil.NoSuchProcess:
            continue
    return sample
