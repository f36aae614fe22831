"""Numerical parity of our HRViT with the public HRViT code.

DIR is a checkout of github.com/facebookresearch/HRViT, fetched at check
time and never part of this repository; its ``models/hrvit.py`` needs
``timm`` and ``einops`` on the path.  What is compared, and how, is
described in hrformer_mm/analysis/parity/hrvit.py::

    python tools/analysis/parity_hrvit.py --ref-dir DIR [--arch b1 b2 b3]
        [--size H W ...] [--write-golden tests/data/hrvit_golden.json.gz]
"""
import os.path as osp
import runpy
import sys

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '..', '_preamble.py'))

import torch  # noqa: E402

from hrformer_mm.analysis.parity import (  # noqa: E402
    ReferenceCheckoutError, hrvit, parity_parser, run_parity)


def main(argv=None):
    p = parity_parser(
        __doc__.splitlines()[0],
        {'--ref-dir': 'checkout of github.com/facebookresearch/HRViT'},
        '--arch', ['b1', 'b2', 'b3'], 'HRViT variants to compare',
        1e-5, 'largest accepted absolute output difference',
        'instead, record the public code\'s outputs of the tiny golden '
        'variant at PATH (tests/data/hrvit_golden.json.gz)')
    p.add_argument('--size', type=int, nargs=2, action='append',
                   metavar=('H', 'W'),
                   help='an input size, multiple of 32; repeat for more '
                   '(default 224x224 and 64x96)')
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    try:
        ref = hrvit.load_reference(args.ref_dir)
    except ReferenceCheckoutError as e:
        sys.exit(str(e))
    if args.write_golden:
        hrvit.write_golden(ref, args.write_golden)
        return
    sizes = args.size or [(224, 224), (64, 96)]
    ok = run_parity(args.arch, lambda a: hrvit.compare(ref, a, sizes),
                    args.tol)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
