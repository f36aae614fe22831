"""The cost of a preemption: SIGTERM to exit, and the checkpoint's size.

    python tools/analysis/preemption_cost.py [CONFIG] [--iters 2]
        [--batch-size 2] [--num-workers N] [--work-dir DIR]

Trains CONFIG (default: HRFormer-B, COCO 256x192) on the built-in
synthetic COCO keypoints in one CPU process, sends SIGTERM half an
iteration after ``--iters`` logged iterations, and prints (JSON) the
seconds from the signal to the exit of the process, split into finishing
the iteration, writing the preemption checkpoint and the exit after it,
and the checkpoint's size in bytes.  See hrformer_mm.analysis.
preemption_cost and docs/clusters.md.
"""
import argparse
import json
import os.path as osp
import runpy
import tempfile

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '..', '_preamble.py'))

from hrformer_mm.analysis.preemption_cost import measure  # noqa: E402

#: configs/ beside this tools/ folder (the checkout's, or hrformer_mm/.mim's)
CONFIGS = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'configs')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', nargs='?', default=osp.normpath(osp.join(
        CONFIGS, 'pose', 'hrformer_b_coco.py')),
        help='a pose training config (default: HRFormer-B 256x192)')
    p.add_argument('--iters', type=int, default=2,
                   help='logged iterations before the signal')
    p.add_argument('--batch-size', type=int, default=2,
                   help='training batch size (one CPU process)')
    p.add_argument('--num-workers', type=int, default=None,
                   help="dataloader workers (default: the config's)")
    p.add_argument('--work-dir', default=None,
                   help='where data, log and checkpoint go (default: a '
                   'temporary directory, removed afterwards)')
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.config, args.work_dir or tmp, args.iters,
                         args.batch_size, args.num_workers)
    print(json.dumps(result, indent=1))
    return result


if __name__ == '__main__':
    main()
