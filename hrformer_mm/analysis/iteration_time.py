"""Where a training iteration goes, beyond the model's step.

With the runner ``tools/train.py`` builds (same config handling, hooks,
dataloader, optimizer wrapper), per iteration:

* :func:`time_runner`: one iteration of the runner's own training loop,
  from one iteration's start to the next: fetching the batch, the step,
  every hook (logging, checkpoint checks, this project's hooks); and the
  time each hook spends per iteration (before + after);
* :func:`time_step`: the bare step, ``model.train_step`` on one batch held
  fixed (data preprocessor, forward, loss, backward, optimizer step), the
  same model and optimizer wrapper;
* :func:`time_data`: the train dataloader alone (its workers as
  configured).

On a GPU, timestamps are taken after ``torch.cuda.synchronize()``.
``tools/analysis/iteration_time.py`` is the command line.
"""
import time

import torch
from mmengine.hooks import Hook


class _Enough(Exception):
    """Raised by the timing hook once every timed iteration has run."""


def _now() -> float:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
    return time.perf_counter()


def _time_hooks(runner, totals: dict) -> None:
    """Wrap each hook's per-iteration methods to add their time to
    ``totals[hook name]``."""
    for hook in runner._hooks:
        name = type(hook).__name__
        for stage in ('before_train_iter', 'after_train_iter'):
            method = getattr(hook, stage)

            def timed(*args, _method=method, _name=name, **kwargs):
                t = _now()
                try:
                    return _method(*args, **kwargs)
                finally:
                    totals[_name] = totals.get(_name, 0.) + _now() - t

            setattr(hook, stage, timed)


def time_runner(runner, warmup: int, iters: int):
    """Per-iteration seconds of the runner's training loop, and per-hook
    seconds per iteration over the same iterations."""
    starts, totals = [], {}
    _time_hooks(runner, totals)
    snapshot = {}

    class Stamp(Hook):  # first in every iteration; stops the run at the end
        priority = 'HIGHEST'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            starts.append(_now())
            if len(starts) == warmup + 1:
                snapshot.update(totals)
            if len(starts) == warmup + iters + 1:
                raise _Enough

    runner._hooks.insert(0, Stamp())
    try:
        runner.train()
    except _Enough:
        pass
    if len(starts) < warmup + iters + 1:
        raise SystemExit(f'the run ended after {len(starts)} iterations: '
                         f'fewer than --warmup + --iters + 1; lower them')
    gaps = [b - a for a, b in zip(starts[warmup:], starts[warmup + 1:])]
    hooks = {k: (v - snapshot.get(k, 0.)) / iters for k, v in totals.items()}
    return gaps, hooks


def time_step(runner, batch, warmup: int, iters: int):
    model = runner.model
    wrapper = runner.optim_wrapper
    times = []
    for _ in range(warmup + iters):
        t = _now()
        model.train_step(batch, optim_wrapper=wrapper)
        times.append(_now() - t)
    return times[warmup:]


def time_data(runner, cfg, warmup: int, iters: int):
    loader = runner.build_dataloader(cfg.train_dataloader)
    times, batch = [], None
    while len(times) < warmup + iters:
        t = time.perf_counter()
        for batch in loader:
            times.append(time.perf_counter() - t)
            if len(times) == warmup + iters:
                break
            t = time.perf_counter()
    return times[warmup:], batch
