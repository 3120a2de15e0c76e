"""Make the OpenMMLab stack importable and its checkpoints loadable on a CPU-only, pip-only host.

Two known breaks, fixed here and nowhere else:

* ``mmseg.models`` imports ``mmcv.ops`` (-> the compiled ``mmcv._ext``) at module level, although
  BiSeNetV2, FCNHead and CrossEntropyLoss never call a compiled op. ``mmcv-lite`` has no ``_ext``,
  so we register an empty module with a real ``__spec__`` (mmengine's Runner inspects it).
* mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6 then refuses its
  training checkpoints, whose message hub pickles numpy scalars and bound methods of
  ``HistoryBuffer`` (through ``getattr``). ``training_checkpoints()`` allows exactly those, only
  while a training checkpoint that our own ``skyseg train`` wrote is read (resume, export). The
  shipped inference checkpoint holds plain tensors and loads with nothing allowed.
"""
from __future__ import annotations

import contextlib
import importlib.machinery
import sys
import types
from typing import Iterator

_ready = False


def _stub_mmcv_ext() -> None:
    if "mmcv._ext" in sys.modules:
        return
    try:
        import mmcv._ext  # noqa: F401  (full mmcv is installed: nothing to do)
        return
    except ImportError:
        pass
    stub = types.ModuleType("mmcv._ext")
    stub.__spec__ = importlib.machinery.ModuleSpec("mmcv._ext", None)

    def _missing(name: str):
        if name.startswith("__"):  # keep `inspect` and pickle from seeing fake dunders
            raise AttributeError(name)

        def op(*_args, **_kwargs):
            raise RuntimeError(f"mmcv compiled op '{name}' is not available with mmcv-lite")
        return op

    stub.__getattr__ = _missing  # type: ignore[attr-defined]
    sys.modules["mmcv._ext"] = stub


@contextlib.contextmanager
def training_checkpoints() -> Iterator[None]:
    """Scope in which torch.load accepts mmengine training checkpoints (trusted: written by us)."""
    import numpy as np
    import torch
    from mmengine.logging.history_buffer import HistoryBuffer

    allowed = [HistoryBuffer, getattr, np.core.multiarray.scalar, np.core.multiarray._reconstruct,
               np.ndarray, np.dtype]
    allowed += [type(np.dtype(t)) for t in ("float64", "float32", "int64", "int32", "bool")]
    with torch.serialization.safe_globals(allowed):
        yield


def setup() -> None:
    """Idempotent; call before importing anything from mmseg."""
    global _ready
    if _ready:
        return
    _stub_mmcv_ext()
    import mmseg.datasets  # noqa: F401  (fills MMSeg's registries)
    import mmseg.models  # noqa: F401
    from mmseg.utils import register_all_modules

    register_all_modules(init_default_scope=True)  # configs name MMSeg types without a scope
    import skyseg.train.datasets  # noqa: F401  (registers SkyDataset)

    _ready = True
