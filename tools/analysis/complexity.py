"""Parameters and GFLOPs of a config's model, in two or three conventions.

    python tools/analysis/complexity.py CONFIG [--shape H W]

``paper``: multiply-accumulates of convs and linears on unpadded tokens,
without the attention products (the convention of the HRFormer paper's
pose tables).  ``complete``: everything the network multiplies, window
padding and attention products included.  ImageNet classifiers also get
``traced``: the HRFormer release's ImageNet counter (``cls/tools/
flop_count.py``: a torch.jit trace, conv / matmul / bmm MACs plus its
element-wise ops, as under PyTorch 1.7.1), the convention of the HRFormer
paper's ImageNet table.  See hrformer_mm/analysis/complexity.py.

Detectors: backbone + neck + RPN head, then the RoI heads on ``--proposals``
boxes (1000; Mask R-CNN's mask head on the first 100); ``--proposals 0``
stops at the RPN head.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402

import hrformer_mm  # noqa: E402,F401
from hrformer_mm.analysis import (count_complexity,  # noqa: E402
                                  count_traced_flops)
from hrformer_mm.engine.launch import build_model_from_config  # noqa: E402


# mmdet's COCO test scale (1333 x 800), as H x W
DET_SHAPE = (800, 1333)
# ImageNet classifiers: the papers' 224 x 224
CLS_SHAPE = (224, 224)
# RoIs the R-CNN heads see at test time: the RPN's max_per_img in mmdet's
# Faster / Mask R-CNN configs (the mask head then runs on the first 100, as
# on mmdet's 100 detections per image).
DET_PROPOSALS = 1000


def default_shape(cfg: Config):
    if cfg.default_scope == 'mmpose':
        w, h = cfg.codec['input_size']
        return h, w
    if cfg.default_scope == 'mmdet':
        return DET_SHAPE
    if cfg.default_scope == 'mmpretrain':
        return CLS_SHAPE
    return tuple(cfg.crop_size)


def _detector_forward(model, x: torch.Tensor, proposals: int):
    """Backbone, neck, RPN head and, with ``proposals``, the RoI heads on
    that many boxes.  The RoI heads' cost depends on how many boxes they
    see, not where, so fixed random boxes stand in for the RPN's (whose
    number after NMS would depend on the weights)."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    feats = model.extract_feat(x)
    model.rpn_head(feats)
    if proposals and getattr(model, 'roi_head', None) is not None:
        h, w = x.shape[-2:]
        g = torch.Generator().manual_seed(0)
        xy = torch.rand(proposals, 2, generator=g) * torch.tensor([w, h])
        wh = torch.rand(proposals, 2, generator=g) * torch.tensor([w, h]) / 4
        boxes = torch.cat([xy, (xy + wh).minimum(torch.tensor([w, h]))], 1)
        model.roi_head.forward(
            feats, [InstanceData(bboxes=boxes)],
            [DetDataSample(metainfo=dict(img_shape=(h, w)))])


def counted_forward(cfg: Config, model, x: torch.Tensor,
                    proposals: int = DET_PROPOSALS):
    """What one pass runs, and what it covers."""
    if cfg.default_scope == 'mmdet':
        counted = 'backbone + neck + RPN head'
        if proposals and getattr(model, 'roi_head', None) is not None:
            counted += f' + RoI heads ({proposals} proposals'
            counted += f', mask head on {min(proposals, 100)})' if getattr(
                model.roi_head, 'with_mask', False) else ')'
        return lambda: _detector_forward(model, x, proposals), counted
    return lambda: model(x, None, mode='tensor'), 'whole model'


def config_complexity(config: str, shape=None,
                      proposals: int = DET_PROPOSALS,
                      traced: bool = True) -> dict:
    """``proposals``: RoIs through a detector's RoI heads (0: stop at the
    RPN head).  ``traced``: for a classifier, also the traced count
    (``gflops_traced``, ``traced_by_op``: the HRFormer release's ImageNet
    convention)."""
    cfg, model = build_model_from_config(config)
    model.eval()
    h, w = shape or default_shape(cfg)
    x = torch.zeros(1, 3, h, w)
    forward, counted = counted_forward(cfg, model, x, proposals)
    result = count_complexity(model, forward)
    r = dict(config=config, shape=[h, w], counted=counted,
             **result.as_dict())
    if traced and cfg.default_scope == 'mmpretrain':
        t = count_traced_flops(
            model, (x, ), lambda m, t: m(t, None, mode='tensor'))
        r['gflops_traced'] = t.total / 1e9
        r['traced_by_op'] = t.by_op
    return r


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'))
    p.add_argument('--proposals', type=int, default=DET_PROPOSALS,
                   help='detectors: RoIs through the RoI heads (0: count '
                   'backbone, neck and RPN head only)')
    p.add_argument('--json', action='store_true', help='print JSON only')
    args = p.parse_args(argv)
    r = config_complexity(args.config, args.shape, args.proposals)
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
        for op, n in sorted(r['traced_by_op'].items(), key=lambda t: -t[1]):
            print(f'    {op:20s} {n / 1e9:10.6f}')


if __name__ == '__main__':
    main()
