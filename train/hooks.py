"""Training hooks: a tqdm progress bar next to MMEngine's periodic log lines, and a wall-time budget."""
from __future__ import annotations

import time
from pathlib import Path

from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from tqdm import tqdm


@HOOKS.register_module()
class SkySegProgressBarHook(Hook):
    """A tqdm bar over the run's real length: the iterations, or the seconds of a TimedPolyLR.

    A timed schedule sets ``max_iters`` far beyond reach, so a bar over iterations would promise
    hundreds of hours; over the schedule's seconds it says when the run will end.
    """

    priority = "VERY_LOW"

    def __init__(self) -> None:
        self._bar: tqdm | None = None
        self._timed: TimedPolyLR | None = None

    def before_train(self, runner) -> None:
        self._timed = next((h for h in runner.hooks if isinstance(h, TimedPolyLR)), None)
        if self._timed is None:
            self._bar = tqdm(total=runner.max_iters, initial=runner.iter, desc="train", unit="it",
                             dynamic_ncols=True)
            return
        self._bar = tqdm(total=round(self._timed.seconds), initial=round(TimedPolyLR.saved_spent(runner)),
                         desc="train", unit="s", dynamic_ncols=True,
                         bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt} s [{elapsed}<{remaining}{postfix}]")

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._bar is None:
            return
        postfix = {"loss": f"{float(outputs['loss'].detach()):.3f}"} if outputs and "loss" in outputs else {}
        if self._timed is None:
            self._bar.update(1)
        else:
            self._advance_to_spent(runner)
            postfix = {"it": runner.iter + 1, **postfix}
        self._bar.set_postfix(postfix, refresh=False)

    def _advance_to_spent(self, runner) -> None:
        # the spent time TimedPolyLR last saved (it runs after this hook): reading its clock here
        # would add a reading per iteration to the schedule's own
        self._bar.update(min(TimedPolyLR.saved_spent(runner), self._timed.seconds) - self._bar.n)

    def after_train(self, runner) -> None:
        if self._bar is not None:
            if self._timed is not None:
                self._advance_to_spent(runner)
            self._bar.close()


_SPENT_KEY = "timed_poly_spent"  # TimedPolyLR's spent seconds in the message hub


def _clock() -> float:
    """TimedPolyLR's time source (a test replaces it to run the schedule without real waiting)."""
    return time.monotonic()


def stop_with_checkpoint(runner) -> str:
    """End the loop after this iteration with a checkpoint that ``last_checkpoint`` names, so the
    same command resumes there; returns its file name."""
    filename = f"iter_{runner.iter + 1}.pth"
    # by_epoch=False: the meta's iter is iter + 1, as MMEngine's CheckpointHook saves it
    runner.save_checkpoint(runner.work_dir, filename, by_epoch=False)
    Path(runner.work_dir, "last_checkpoint").write_text(str(Path(runner.work_dir, filename)))
    runner.train_loop.stop_training = True
    return filename


@HOOKS.register_module()
class TimeBudgetHook(Hook):
    """Stop training after ``seconds`` of wall time with a checkpoint to resume from.

    A leased GPU machine (10 minutes a command) or a timed session kills a run at its limit and
    loses every iteration since the last interval checkpoint; this stops one iteration early
    instead, saves where it stopped and points ``last_checkpoint`` at it, so ``skyseg train``
    resumes from there. Runs after MMEngine's CheckpointHook (priority LOWEST).
    """

    priority = "LOWEST"

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError(f"TimeBudgetHook needs a positive number of seconds, got {seconds}")
        self.seconds = float(seconds)
        self._start = 0.0

    def before_train(self, runner) -> None:
        self._start = time.monotonic()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if time.monotonic() - self._start < self.seconds or runner.iter + 1 >= runner.max_iters:
            return
        filename = stop_with_checkpoint(runner)
        runner.logger.info(f"time budget of {self.seconds:.0f} s spent: stopped at iteration "
                           f"{runner.iter + 1} of {runner.max_iters}, saved {filename}; run again to resume")


@HOOKS.register_module()
class TimedPolyLR(Hook):
    """A poly learning-rate schedule over wall time instead of iterations, ending the run on time.

    On a leased GPU the iterations a budget buys are unknown until it runs (data loading or the GPU
    may bound them); an iteration-based schedule cut short by a time limit ends at a high learning
    rate. This one sets ``lr = initial * warmup(f) * (1 - f) ** power`` with ``f`` the share of
    ``seconds`` spent, so the schedule always completes, then saves a checkpoint and stops. The
    time spent is kept in the message hub (saved in each checkpoint), so a resumed run continues the
    same schedule. Use it
    with ``param_scheduler = None`` and a ``max_iters`` larger than the budget can reach.
    """

    priority = "LOWEST"

    def __init__(self, seconds: float, power: float = 0.9, warmup: float = 0.03, eta_min: float = 1e-5) -> None:
        if seconds <= 0:
            raise ValueError(f"TimedPolyLR needs a positive number of seconds, got {seconds}")
        self.seconds, self.power, self.warmup, self.eta_min = float(seconds), power, warmup, eta_min
        self._start, self._spent_before = 0.0, 0.0

    def before_train(self, runner) -> None:
        self._start = _clock()
        self._spent_before = self.saved_spent(runner)
        for group in runner.optim_wrapper.optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])

    @staticmethod
    def saved_spent(runner) -> float:
        """The schedule's spent seconds as last saved in the message hub (and so in checkpoints)."""
        return float(runner.message_hub.get_info(_SPENT_KEY, 0.0))

    def _spent(self) -> float:
        return self._spent_before + _clock() - self._start

    def _fraction(self) -> float:
        return min(self._spent() / self.seconds, 1.0)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        f = self._fraction()
        scale = (1 - f) ** self.power * min(1.0, 0.1 + 0.9 * f / self.warmup if self.warmup else 1.0)
        for group in runner.optim_wrapper.optimizer.param_groups:
            group["lr"] = self.eta_min + (group["initial_lr"] - self.eta_min) * scale

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        runner.message_hub.update_info(_SPENT_KEY, self._spent())
        if self._fraction() < 1.0:
            return
        filename = stop_with_checkpoint(runner)
        runner.logger.info(f"timed schedule of {self.seconds:.0f} s complete at iteration {runner.iter + 1}; "
                           f"saved {filename}")
