"""Plot training loss and validation metrics of one or more runs.

Reads the ``vis_data/scalars.json`` files mmengine's LocalVisBackend writes
under each work dir (the newest run in each) and draws one row per run:
training loss against iteration, and the validation metrics (COCO AP,
mIoU, ...) against iteration.

    python tools/analysis/plot_curves.py WORK_DIR [WORK_DIR ...] --out f.png
"""
import argparse
import glob
import json
import os.path as osp
from collections import defaultdict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

METRIC_KEYS = ('coco/AP', 'coco/AP .5', 'coco/AR', 'mIoU', 'aAcc', 'mAcc')
# mmseg reports these in percent; plotted as fractions like COCO AP
PERCENT_KEYS = ('mIoU', 'aAcc', 'mAcc')


def read_scalars(work_dir: str):
    """(train, val) series from the newest scalars.json under work_dir."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    if not files:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}')
    train, val = defaultdict(list), defaultdict(list)
    last_step = 0
    with open(files[-1]) as f:
        for line in f:
            rec = json.loads(line)
            step = rec.get('step', last_step)
            if 'loss' in rec:
                # epoch-based runs log the iteration within the epoch as
                # 'iter' and the global one as 'step'
                last_step = rec.get('iter', step) if 'epoch' in rec and \
                    'iter' in rec else step
                for k, v in rec.items():
                    if k.startswith('loss'):
                        train[k].append((last_step, v))
            for k in METRIC_KEYS:
                if k in rec:
                    scale = 0.01 if k in PERCENT_KEYS else 1.0
                    val[k].append((last_step, rec[k] * scale))
    return train, val


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('work_dirs', nargs='+',
                   help='work dirs of tools/train.py runs, one row each')
    p.add_argument('--out', default='curves.png', help='the figure file')
    args = p.parse_args(argv)
    fig, axes = plt.subplots(len(args.work_dirs), 2, squeeze=False,
                             figsize=(10, 3.2 * len(args.work_dirs)))
    for row, wd in zip(axes, args.work_dirs):
        train, val = read_scalars(wd)
        for k, pts in train.items():
            row[0].plot(*zip(*pts), label=k)
        row[0].set(title=f'{osp.basename(osp.normpath(wd))}: training loss',
                   xlabel='iteration', yscale='log')
        row[0].legend(fontsize=7)
        for k, pts in val.items():
            row[1].plot(*zip(*pts), marker='o', label=k)
        row[1].set(title='validation', xlabel='iteration', ylim=(0, 1))
        row[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
