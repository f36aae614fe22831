"""Parity with the reference HRFormer *segmentation* release.

The reference code is fetched by the user at check time and never part of
this repository; what is compared, and how, is described in
hrformer_mm/analysis/parity/seg.py.  Identical computations agree in
float64 to rounding (below 1e-10 relative); in float32 the different order
of operations (fused attention, merged q/k/v projection) leaves
differences of a few 1e-6 of the outputs' magnitude::

    git clone https://github.com/HRNet/HRFormer /tmp/HRFormer
    pip install --target /tmp/refdeps einops yacs timm   # its own imports
    PYTHONPATH=/tmp/refdeps python tools/analysis/parity_reference_seg.py \\
        --ref-dir /tmp/HRFormer [--sizes 512x512 500x376]
"""
import os.path as osp
import runpy
import sys

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '..', '_preamble.py'))

import torch  # noqa: E402

from hrformer_mm.analysis.parity import (  # noqa: E402
    ReferenceCheckoutError, parity_parser, run_parity, seg)


def main(argv=None):
    p = parity_parser(
        __doc__.splitlines()[0],
        {'--ref-dir': 'checkout of github.com/HRNet/HRFormer'},
        '--configs', list(seg.VARIANTS), 'our segmentation configs to check',
        1e-5, 'largest accepted float32 difference, relative to each '
        f'output\'s magnitude (float64: {seg.FLOAT64_TOL:.0e})',
        'instead, record the reference outputs of a small model at PATH '
        '(tests/data/hrformer_seg_golden.pt)')
    p.add_argument('--sizes', nargs='+', default=['512x512', '500x376'],
                   metavar='HxW',
                   help='input sizes (default 512x512 and 500x376, the '
                   'second not a multiple of 32)')
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the reference weights')
    p.add_argument('--no-calibrate', action='store_true',
                   help='keep the seeded BatchNorm statistics (activations '
                   'then grow with depth)')
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    try:
        ref = seg.import_reference(args.ref_dir)
    except ReferenceCheckoutError as e:
        sys.exit(str(e))
    if args.write_golden:
        seg.write_golden(ref, args.write_golden)
        return
    sizes = [tuple(map(int, s.split('x'))) for s in args.sizes]
    worst64 = {}

    def compare(config):
        worst = seg.compare(ref, config, sizes, args.seed,
                            not args.no_calibrate)
        worst64[config] = worst[torch.float64]
        return worst[torch.float32]

    ok = run_parity(args.configs, compare, args.tol)
    print(f'float64: worst {max(worst64.values()):.1e} (tolerance '
          f'{seg.FLOAT64_TOL:.0e})')
    ok = ok and max(worst64.values()) <= seg.FLOAT64_TOL
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
