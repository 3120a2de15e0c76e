"""A tqdm progress bar for iteration-based training, next to MMEngine's periodic log lines."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from tqdm import tqdm


@HOOKS.register_module()
class SkySegProgressBarHook(Hook):
    priority = "VERY_LOW"

    def __init__(self) -> None:
        self._bar: tqdm | None = None

    def before_train(self, runner) -> None:
        self._bar = tqdm(total=runner.max_iters, initial=runner.iter, desc="train", unit="it",
                         dynamic_ncols=True)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        if outputs and "loss" in outputs:
            self._bar.set_postfix(loss=f"{float(outputs['loss'].detach()):.3f}", refresh=False)

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.close()
