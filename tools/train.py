"""Train a model: ``python tools/train.py CONFIG [--work-dir D] [--resume]
[--amp] [--cfg-options k=v ...] [--launcher pytorch]``.

The config's ``default_scope`` says whether mmpose or mmseg runs it.
Distributed: ``tools/dist_train.sh CONFIG GPUS`` or ``tools/slurm_train.sh``.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)
from hrformer_mm.engine import build_runner, parse_cfg_for_train  # noqa: E402


def main(argv=None):
    cfg = parse_cfg_for_train(argv)
    build_runner(cfg).train()


if __name__ == '__main__':
    main()
