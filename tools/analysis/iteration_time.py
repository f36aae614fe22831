"""Where a training iteration of tools/train.py goes, beyond the model's step.

    python tools/analysis/iteration_time.py CONFIG [--iters 20]
        [--warmup 5] [--amp] [--cfg-options k=v ...]

Builds the runner exactly as tools/train.py does (same config handling,
hooks, dataloader, optimizer wrapper) and reports, as medians over
``--iters`` iterations after ``--warmup``:

* ``runner_s``: one iteration of the runner's own training loop, from one
  iteration's start to the next: fetching the batch, the step, every hook
  (logging, checkpoint checks, this project's hooks);
* ``step_s``: the bare step, ``model.train_step`` on one batch held fixed
  (data preprocessor, forward, loss, backward, optimizer step), the same
  model and optimizer wrapper;
* ``data_s``: the train dataloader alone (its workers as configured);
* ``hooks_s``: the time each hook spends per iteration (before + after);

and ``runner_over_step``, the overhead factor (1.0: the loop adds nothing).
On a GPU, timestamps are taken after ``torch.cuda.synchronize()``.  The run
stops itself after the iterations it times; nothing is saved beyond the
log in ``--work-dir`` (a temporary directory by default).
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402

import hrformer_mm  # noqa: E402,F401
from hrformer_mm.engine import build_runner, parse_cfg_for_train  # noqa


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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--iters', type=int, default=20)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--amp', action='store_true')
    p.add_argument('--work-dir', default=None)
    p.add_argument('--cfg-options', nargs='+', default=[])
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        train_argv = [args.config, '--work-dir', args.work_dir or tmp]
        if args.amp:
            train_argv.append('--amp')
        if args.cfg_options:
            train_argv += ['--cfg-options', *args.cfg_options]
        cfg = parse_cfg_for_train(train_argv)
        runner = build_runner(cfg)
        gaps, hooks = time_runner(runner, args.warmup, args.iters)
        data, batch = time_data(runner, cfg, args.warmup, args.iters)
        step = time_step(runner, batch, args.warmup, args.iters)
    med = {k: statistics.median(v) for k, v in
           dict(runner_s=gaps, step_s=step, data_s=data).items()}
    result = dict(
        config=args.config, device='cuda' if torch.cuda.is_available()
        else 'cpu', batch_size=cfg.train_dataloader.batch_size,
        num_workers=cfg.train_dataloader.get('num_workers', 0),
        iters=args.iters, **med,
        runner_over_step=med['runner_s'] / med['step_s'],
        hooks_s=dict(sorted(hooks.items(), key=lambda kv: -kv[1])))
    print(json.dumps(result, indent=1))
    return result


if __name__ == '__main__':
    main()
