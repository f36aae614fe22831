"""Train a model: ``python tools/train.py CONFIG [--work-dir D] [--resume]
[--amp] [--cfg-options k=v ...] [--launcher pytorch]``.

The config's ``default_scope`` says which host library (mmpose, mmseg,
mmdet, mmpretrain) runs it.  Distributed: ``tools/dist_train.sh CONFIG
GPUS`` or ``tools/slurm_train.sh``.
"""
import os.path as osp
import runpy

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '_preamble.py'))

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)
from hrformer_mm.engine import build_runner, parse_cfg_for_train  # noqa: E402
from hrformer_mm.engine.checks import check_checkpoints_available  # noqa: E402
from hrformer_mm.host_warnings import quiet_host_logs  # noqa: E402


def main(argv=None):
    cfg = parse_cfg_for_train(argv)
    check_checkpoints_available(cfg, training=True)
    runner = build_runner(cfg)
    quiet_host_logs(runner.logger)
    runner.train()


if __name__ == '__main__':
    main()
