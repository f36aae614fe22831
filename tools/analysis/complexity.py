"""Parameters and GFLOPs of a config's model, in both conventions.

    python tools/analysis/complexity.py CONFIG [--shape H W]

``paper``: multiply-accumulates of convs and linears on unpadded tokens,
without the attention products (the convention of the HRFormer paper's
tables).  ``complete``: everything the network multiplies, window padding
and attention products included.  See hrformer_mm/analysis/complexity.py.
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
from hrformer_mm.analysis import count_complexity  # noqa: E402
from hrformer_mm.engine.launch import build_model_from_config  # noqa: E402


# mmdet's COCO test scale (1333 x 800), as H x W
DET_SHAPE = (800, 1333)


def default_shape(cfg: Config):
    if cfg.default_scope == 'mmpose':
        w, h = cfg.codec['input_size']
        return h, w
    if cfg.default_scope == 'mmdet':
        return DET_SHAPE
    return tuple(cfg.crop_size)


def counted_forward(cfg: Config, model, x: torch.Tensor):
    """What one pass runs, and what it covers.  A detector's RoI head needs
    compiled mmcv ops (RoIAlign, NMS), so detectors count backbone, neck and
    RPN head."""
    if cfg.default_scope == 'mmdet':
        return (lambda: model.rpn_head(model.extract_feat(x)),
                'backbone + neck + RPN head')
    return lambda: model(x, None, mode='tensor'), 'whole model'


def config_complexity(config: str, shape=None) -> dict:
    cfg, model = build_model_from_config(config)
    model.eval()
    h, w = shape or default_shape(cfg)
    x = torch.zeros(1, 3, h, w)
    forward, counted = counted_forward(cfg, model, x)
    result = count_complexity(model, forward)
    return dict(config=config, shape=[h, w], counted=counted,
                **result.as_dict())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'))
    p.add_argument('--json', action='store_true', help='print JSON only')
    args = p.parse_args(argv)
    r = config_complexity(args.config, args.shape)
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


if __name__ == '__main__':
    main()
