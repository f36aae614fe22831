"""Where a training iteration of tools/train.py goes, beyond the model's step.

    python tools/analysis/iteration_time.py CONFIG [--iters 20]
        [--warmup 5] [--amp] [--cfg-options k=v ...]

Prints, as JSON, medians over ``--iters`` iterations after ``--warmup``:
``runner_s`` (one iteration of the runner's loop), ``step_s`` (the bare
``model.train_step``), ``data_s`` (the dataloader alone), ``hooks_s`` (each
hook's time per iteration) and ``runner_over_step`` (1.0: the loop adds
nothing); what each covers is described in
hrformer_mm/analysis/iteration_time.py.  The run stops itself after the
iterations it times; nothing is saved beyond the log.
"""
import argparse
import json
import os.path as osp
import runpy
import statistics
import tempfile

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '..', '_preamble.py'))

import torch  # noqa: E402

import hrformer_mm  # noqa: E402,F401
from hrformer_mm.analysis.iteration_time import (  # noqa: E402
    time_data, time_runner, time_step)
from hrformer_mm.engine import build_runner, parse_cfg_for_train  # noqa: E402
from hrformer_mm.host_warnings import quiet_host_logs  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='a training config, as for tools/train.py')
    p.add_argument('--iters', type=int, default=20,
                   help='timed iterations (medians are reported)')
    p.add_argument('--warmup', type=int, default=5,
                   help='untimed iterations first')
    p.add_argument('--amp', action='store_true',
                   help='automatic mixed precision, as tools/train.py --amp')
    p.add_argument('--work-dir', default=None,
                   help='where the log goes (default: a temporary directory)')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='config overrides, as for tools/train.py')
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        train_argv = [args.config, '--work-dir', args.work_dir or tmp]
        if args.amp:
            train_argv.append('--amp')
        if args.cfg_options:
            train_argv += ['--cfg-options', *args.cfg_options]
        cfg = parse_cfg_for_train(train_argv)
        runner = build_runner(cfg)
        quiet_host_logs(runner.logger)
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
