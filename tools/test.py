"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT
[--show-dir vis] [--work-dir D] [--cfg-options k=v ...]``.

Prints the config's metrics (COCO AP for pose configs, mIoU for
segmentation configs, ...) and writes them to WORK_DIR/metrics.json.
CHECKPOINT ``none`` evaluates the randomly initialised model (the baseline
the demo prints).
"""
import json
import os.path as osp
import runpy

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '_preamble.py'))

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)
from hrformer_mm.engine import build_runner, parse_cfg_for_test  # noqa: E402
from hrformer_mm.engine.checks import check_checkpoints_available  # noqa: E402
from hrformer_mm.host_warnings import quiet_host_logs  # noqa: E402


def main(argv=None):
    cfg = parse_cfg_for_test(argv)
    check_checkpoints_available(cfg, training=False)
    runner = build_runner(cfg)
    quiet_host_logs(runner.logger)
    metrics = runner.test()
    if runner.rank == 0:
        with open(osp.join(cfg.work_dir, 'metrics.json'), 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()}, f, indent=1)
    return metrics


if __name__ == '__main__':
    main()
