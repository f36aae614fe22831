"""Download every checkpoint a set of configs needs into torch hub's cache:
``python tools/fetch_weights.py CONFIG [CONFIG ...] [--list]``.

For clusters whose compute nodes have no internet: run it on a machine
that has, then copy ``torch.hub.get_dir()/checkpoints`` (by default
``~/.cache/torch/hub/checkpoints``) to the same place on the nodes, or point
``TORCH_HOME`` at a shared copy.  ``--list`` (``--dry-run``) downloads
nothing and prints, per checkpoint, the config key, the URL, the file it is
read from and whether it is there.  Exits with 1 when something is still
missing (a local file, a failed download).
"""
import argparse
import os.path as osp
import runpy
import sys

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '_preamble.py'))

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)
from hrformer_mm.checkpoint_sources import (checkpoints_named,  # noqa: E402
                                            describe, fetch)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('configs', nargs='+', metavar='CONFIG')
    p.add_argument('--list', '--dry-run', action='store_true', dest='list',
                   help='download nothing: print each checkpoint, its URL, '
                   'its cache file and whether it is there')
    return p.parse_args(argv)


def main(argv=None) -> int:
    from mmengine.config import Config
    args = parse_args(argv)
    sources = []
    for config in args.configs:
        named = checkpoints_named(Config.fromfile(config))
        print(f'{config}:' + ('' if named else ' no checkpoints'))
        for source in named:
            print(f'  {describe(source)}')
        sources += named
    if args.list:
        return 0
    left = fetch(sources, progress=sys.stderr.isatty())
    if left:
        print(f'{len(left)} checkpoint(s) still missing', file=sys.stderr)
        return 1
    print('every checkpoint is in place')
    return 0


if __name__ == '__main__':
    sys.exit(main())
