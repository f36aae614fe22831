"""Parity of the ImageNet classifiers with the reference classification code.

The reference code is fetched by the user at check time and never part of
this repository; what is compared, and how, is described in
hrformer_mm/analysis/parity/cls.py::

    git clone https://github.com/HRNet/HRFormer /tmp/HRFormer
    git clone https://github.com/facebookresearch/HRViT /tmp/HRViT
    pip install --target /tmp/refdeps timm==0.4.12 yacs   # their imports
    PYTHONPATH=/tmp/refdeps python tools/analysis/parity_reference_cls.py \\
        --hrformer-dir /tmp/HRFormer --hrvit-dir /tmp/HRViT
"""
import os.path as osp
import runpy
import sys

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '..', '_preamble.py'))

from hrformer_mm.analysis.parity import (  # noqa: E402
    ReferenceCheckoutError, cls, parity_parser, run_parity)


def main(argv=None):
    p = parity_parser(
        __doc__.splitlines()[0],
        {'--hrformer-dir': 'checkout of github.com/HRNet/HRFormer',
         '--hrvit-dir': 'checkout of github.com/facebookresearch/HRViT'},
        '--configs', list(cls.VARIANTS), 'our classifier configs to check',
        1e-5, 'largest accepted logit difference, relative to the largest '
        'logit',
        'instead, record every variant\'s reference logits at PATH '
        '(tests/data/cls_golden.pt)')
    args = p.parse_args(argv)
    dirs = dict(hrformer=args.hrformer_dir, hrvit=args.hrvit_dir)
    try:
        if args.write_golden:
            cls.write_golden(dirs, args.write_golden)
            return
        ok = run_parity(args.configs, lambda c: cls.compare(
            c, dirs[cls.VARIANTS[c][0]]), args.tol)
    except ReferenceCheckoutError as e:
        sys.exit(str(e))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
