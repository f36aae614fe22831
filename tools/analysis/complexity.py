"""Parameters and GFLOPs of a config's model, in two or three conventions.

    python tools/analysis/complexity.py CONFIG [--shape H W]

``paper``: multiply-accumulates of convs and linears on unpadded tokens,
without the attention products (the convention of the HRFormer paper's
pose tables).  ``complete``: everything the network multiplies, window
padding and attention products included.  ImageNet classifiers also get
``traced``: the HRFormer release's ImageNet counter (``cls/tools/
flop_count.py``: a torch.jit trace, conv / matmul / bmm MACs plus its
element-wise ops, as under PyTorch 1.7.1), the convention of the HRFormer
paper's ImageNet table.  See hrformer_mm/analysis/complexity.py
(the counts, :func:`config_complexity`).

Detectors: backbone + neck + RPN head, then the RoI heads on ``--proposals``
boxes (1000; Mask R-CNN's mask head on the first 100); ``--proposals 0``
stops at the RPN head.
"""
import argparse
import json
import os.path as osp
import runpy

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '..', '_preamble.py'))

import torch  # noqa: E402

import hrformer_mm  # noqa: E402,F401
from hrformer_mm.analysis.complexity import (  # noqa: E402
    CLS_SHAPE, DET_PROPOSALS, config_complexity, linear_as_torch_1_7)
from hrformer_mm.analysis.parity import cls as parity  # noqa: E402
from hrformer_mm.analysis.parity import reference_on_path  # noqa: E402

#: our classifier config (configs/cls/) -> the HRFormer release's model
#: (its cls/configs/hrt/*.yaml)
REFERENCE_HRT = {'hrformer_t_imagenet.py': 'hrt_tiny',
                 'hrformer_s_imagenet.py': 'hrt_small',
                 'hrformer_b_imagenet.py': 'hrt_base'}


def reference_counter(config: str, hrformer_dir: str) -> dict:
    """The HRFormer release's own counter (``cls/tools/flop_count.py`` of a
    checkout of github.com/HRNet/HRFormer, imported from there) on the
    release's classifier of ``config`` (built by
    hrformer_mm.analysis.parity.cls, as parity_reference_cls.py does),
    1 x 3 x 224 x 224: GFLOPs per op.  Its op table has no
    ``aten::linear`` (PyTorch 1.7.1 traced linears as addmm / matmul +
    add_), so today it would skip every linear layer; it is given one
    handle for it, ``linear_as_torch_1_7``, through its own
    ``customized_ops`` argument."""
    import importlib
    import sys
    from collections import Counter
    model = parity.build_reference('hrformer',
                                   REFERENCE_HRT[osp.basename(config)],
                                   hrformer_dir)
    for name in [m for m in sys.modules if m.split('.')[0] == 'tools']:
        del sys.modules[name]  # the release's cls/tools, not ours
    with reference_on_path(osp.join(hrformer_dir, 'cls')):
        flop_count = importlib.import_module('tools.flop_count').flop_count
    with torch.no_grad():
        res = flop_count(model, (torch.zeros(1, 3, *CLS_SHAPE), ),
                         customized_ops={'aten::linear': lambda i, o:
                                         Counter(linear_as_torch_1_7(i, o))})
    return {k: float(v) for k, v in res.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'))
    p.add_argument('--proposals', type=int, default=DET_PROPOSALS,
                   help='detectors: RoIs through the RoI heads (0: count '
                   'backbone, neck and RPN head only)')
    p.add_argument('--json', action='store_true', help='print JSON only')
    p.add_argument('--reference-hrformer', metavar='DIR',
                   help='HRFormer classifiers: also run the release\'s '
                   'counter (DIR: a checkout of github.com/HRNet/HRFormer; '
                   'PYTHONPATH with timm 0.4.12 and yacs) on the '
                   'release\'s model, per op')
    args = p.parse_args(argv)
    r = config_complexity(args.config, args.shape, args.proposals)
    if args.reference_hrformer:
        r['reference_by_op'] = reference_counter(args.config,
                                                 args.reference_hrformer)
        r['reference_gflops'] = sum(r['reference_by_op'].values())
    if args.json:
        print(json.dumps(r))
        return
    print(f"{r['config']}  input {r['shape'][0]}x{r['shape'][1]}  "
          f"({r['counted']})")
    print(f"  params            {r['params_m']:.2f} M")
    print(f"  GFLOPs (paper)    {r['gflops_paper']:.2f}   conv/linear MACs "
          'on unpadded tokens, no attention products')
    print(f"  GFLOPs (complete) {r['gflops_complete']:.2f}   + window "
          'padding + attention products')
    if 'gflops_traced' in r:
        print(f"  GFLOPs (traced)   {r['gflops_traced']:.2f}   HRFormer "
              "release's ImageNet counter (torch.jit trace, torch 1.7.1 "
              'rules)')
        ref = r.get('reference_by_op')
        if ref is not None:
            print(f"  GFLOPs, the release's counter on the release's model "
                  f"{r['reference_gflops']:.4f}; ours {r['gflops_traced']:.4f}"
                  '\n    op                      ours    release')
        for op in sorted(set(r['traced_by_op']) | set(ref or {}),
                         key=lambda k: -r['traced_by_op'].get(k, 0)):
            line = f"    {op:20s} {r['traced_by_op'].get(op, 0) / 1e9:10.6f}"
            if ref is not None:
                line += f' {ref.get(op, 0.):10.6f}'
            print(line)


if __name__ == '__main__':
    main()
