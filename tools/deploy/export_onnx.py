"""Export a pose or segmentation model to ONNX and check it with onnxruntime.

    python tools/deploy/export_onnx.py CONFIG CHECKPOINT [--out model.onnx]
        [--shape H W] [--batch N] [--no-fuse] [--opset 17]
        [--cfg-options k=v ...]

What the graph computes is described in hrformer_mm/deploy.py.  The
exported model is run with onnxruntime at batch ``--batch`` and
``--batch + 1`` and the largest difference to PyTorch is printed (and
returned by ``main``); above 1e-4 the command fails.
"""
import argparse
import json
import os.path as osp
import runpy

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '..', '_preamble.py'))

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)
from hrformer_mm import deploy  # noqa: E402


def main(argv=None) -> dict:
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='a pose or segmentation config')
    p.add_argument('checkpoint', help="a .pth file, or 'none' (random "
                   'initialisation)')
    p.add_argument('--out', default=None,
                   help='default: the config name with .onnx')
    p.add_argument('--shape', type=int, nargs=2, default=None,
                   help="H W; default: the pose codec's input size, or "
                   '512 512 for segmentation')
    p.add_argument('--batch', type=int, default=1,
                   help='batch of the check (also run at --batch + 1: the '
                   'batch axis is dynamic)')
    p.add_argument('--no-fuse', action='store_true',
                   help='keep the BatchNorm layers (default: folded into '
                   'their convolutions first)')
    p.add_argument('--opset', type=int, default=17, help='ONNX opset')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='config overrides, key=value')
    args = p.parse_args(argv)

    model = deploy.build_model(args.config, args.checkpoint, args.cfg_options)
    if not args.no_fuse:
        deploy.fuse(model)
    shape = args.shape or deploy.default_shape(model)
    out = args.out or osp.splitext(osp.basename(args.config))[0] + '.onnx'
    deploy.export(model, out, shape, args.batch, args.opset)
    if model.training:
        raise AssertionError('export left the model in training mode')
    result = dict(onnx=out, shape=list(shape), fused=not args.no_fuse,
                  max_abs_diff=deploy.max_difference(
                      model, out, shape, (args.batch, args.batch + 1)))
    print(json.dumps(result, indent=1))
    if result['max_abs_diff'] > 1e-4:
        # never hand out a graph that computes something else
        raise SystemExit(f'{out}: onnxruntime differs from PyTorch by '
                         f"{result['max_abs_diff']:.3g} (> 1e-4)")
    return result


if __name__ == '__main__':
    main()
