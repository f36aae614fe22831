"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT
[--show-dir vis] [--work-dir D] [--cfg-options k=v ...]``.

Prints COCO AP for pose configs and mIoU for segmentation configs, and
writes them to WORK_DIR/metrics.json.  CHECKPOINT ``none`` evaluates the
randomly initialised model (the baseline the demo prints).
"""
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)
from hrformer_mm.engine import build_runner, parse_cfg_for_test  # noqa: E402


def main(argv=None):
    cfg = parse_cfg_for_test(argv)
    runner = build_runner(cfg)
    metrics = runner.test()
    if runner.rank == 0:
        with open(osp.join(cfg.work_dir, 'metrics.json'), 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()}, f, indent=1)
    return metrics


if __name__ == '__main__':
    main()
