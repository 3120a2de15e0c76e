"""Build an MMEngine Runner from a skyseg config and train it (resumable; AMP on CUDA, bf16 on CPU on request)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterator

from skyseg.train import mmcompat

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "bisenetv2_fcn_1xb4-2k_sky-384x512.py"


def config_dicts(node: Any) -> Iterator[dict]:
    """Every dict of a config tree, depth first: dataset settings sit at any depth of ConcatDataset,
    RepeatDataset and their lists."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from config_dicts(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from config_dicts(value)


def _set_data_root(node: Any, data_root: str) -> None:
    """Configs use `data_root` at parse time; rewrite every dataset that carries one."""
    for settings in config_dicts(node):
        if "data_root" in settings:
            settings["data_root"] = data_root


def load_config(config: str | Path, data_root: str | None = None,
                options: dict[str, Any] | None = None):
    """Load a config with optional data root and ``--cfg-options``-style overrides."""
    mmcompat.setup()
    from mmengine.config import Config

    cfg = Config.fromfile(str(config))
    if data_root:
        cfg.data_root = data_root
        _set_data_root(cfg._cfg_dict, data_root)
    if options:
        cfg.merge_from_dict(options)
    return cfg


def load_contract(config: str | Path):
    """The serving contract a training config defines (:meth:`skyseg.contract.Contract.from_config`)."""
    from skyseg.contract import Contract

    return Contract.from_config(load_config(config))


def train(config: str | Path, work_dir: str | Path, data_root: str | None = None,
          max_iters: int | None = None, resume: bool = True,
          options: dict[str, Any] | None = None, amp: bool = False,
          time_limit: float | None = None) -> Path:
    """Train; with ``resume`` the run continues from the last checkpoint in ``work_dir``.

    ``time_limit`` (seconds) stops the run early with a checkpoint to resume from
    (:class:`~skyseg.train.hooks.TimeBudgetHook`): for leased GPU machines and timed sessions.

    Mixed precision is always on with CUDA (float16, dynamic loss scale); without CUDA, ``amp``
    asks for bfloat16 autocast on the CPU (:class:`~skyseg.train.optim.CPUBF16OptimWrapper`).
    """
    import torch
    from mmengine.runner import Runner

    cfg = load_config(config, data_root, options)
    check_soft_targets(cfg)
    cfg.work_dir = str(work_dir)
    if max_iters:
        _shorten_schedule(cfg, max_iters)
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = "AmpOptimWrapper"
        cfg.optim_wrapper.loss_scale = "dynamic"
    elif amp:
        from .optim import native_bf16

        if not native_bf16():
            log.warning("this CPU has no native bfloat16 (AMX or AVX512-BF16): --amp will train slower than float32")
        cfg.optim_wrapper.type = "CPUBF16OptimWrapper"
        # Importing .optim registered it here; the dumped config names the module for other tools too.
        custom = dict(cfg.get("custom_imports") or {})
        cfg.custom_imports = dict(custom, imports=[*custom.get("imports", []), "skyseg.train.optim"])
    if time_limit:
        cfg.custom_hooks = [*(cfg.get("custom_hooks") or []), dict(type="TimeBudgetHook", seconds=time_limit)]
    cfg.resume = resume and (Path(work_dir) / "last_checkpoint").exists()
    if cfg.resume:
        # MMEngine resumes from load_from when one is set: a fine-tune's starting weights would
        # restart the run (and fail: they carry no training state), not continue it.
        cfg.load_from = None
    runner = Runner.from_cfg(cfg)
    with mmcompat.training_checkpoints():  # resume reads this work_dir's own checkpoints
        runner.train()
    return Path(work_dir)


def check_soft_targets(cfg) -> None:
    """Refuse a mix with soft splits (masks of p(sky) * 254) that a head would read as class
    indices: only ``SoftTargetFCNHead`` knows them, so it must be the decode head and no auxiliary
    segmentation head may see them (PyTorch's error would be "Target 229 is out of bounds")."""
    soft = [s for d in config_dicts(cfg.get("train_dataloader")) for s in (d.get("soft_splits") or ())]
    if not soft:
        return
    model = cfg.get("model") or {}
    decode = (model.get("decode_head") or {}).get("type")
    aux = model.get("auxiliary_head")
    aux_types = [h.get("type") for h in (aux if isinstance(aux, (list, tuple)) else [aux]) if h]
    reading = [t for t in aux_types if t != "SceneHead"]
    if decode != "SoftTargetFCNHead" or reading:
        raise ValueError(f"soft splits {', '.join(soft)} hold p(sky), not classes: they need "
                         f"model.decode_head type SoftTargetFCNHead (got {decode}) and no auxiliary segmentation "
                         f"heads (got {', '.join(reading) or 'none'})")


def _shorten_schedule(cfg, max_iters: int) -> None:
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters + 1
    for scheduler in cfg.get("param_scheduler") or []:  # None where TimedPolyLR sets the rate
        scheduler["end"] = min(scheduler.get("end", max_iters), max_iters)
        scheduler["begin"] = min(scheduler.get("begin", 0), max(max_iters - 1, 0))
    checkpoint = cfg.default_hooks.checkpoint
    checkpoint.interval = min(checkpoint.interval, max_iters)
