"""Export a pose or segmentation model to ONNX and check it with onnxruntime.

    python tools/deploy/export_onnx.py CONFIG CHECKPOINT [--out model.onnx]
        [--shape H W] [--batch N] [--no-fuse] [--opset 17]
        [--cfg-options k=v ...]

CHECKPOINT ``none`` exports the randomly initialised model.  The graph maps
a normalised image batch (N, 3, H, W) to the head's raw output: heatmaps
for pose configs, class logits at 1/4 resolution for segmentation configs
(pre-processing and decoding stay outside, as in mmdeploy's SDK split).
The batch axis is dynamic.  Unless ``--no-fuse``, BatchNorm layers are
folded into their convolutions first.  The exported model is run with
onnxruntime at batch ``--batch`` and ``--batch + 1`` and the largest
difference to PyTorch is printed (and returned by ``main``).
"""
import argparse
import json
import os.path as osp
import runpy
from importlib.util import find_spec

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(find_spec('hrformer_mm').origin),
                            'host_warnings.py'))['quiet_host_warnings']()

import torch  # noqa: E402

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)


class TensorOutput(torch.nn.Module):
    """An OpenMMLab model's ``mode='tensor'`` forward as a plain module.

    Created in the wrapped model's mode: ``torch.onnx.export`` puts the
    exported module back into the mode it found it in, recursively, so a
    wrapper left in (the default) training mode would switch an eval-mode
    model to training mode behind the caller's back, and every later
    PyTorch reference would use batch statistics and dropout.
    """

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model
        self.train(model.training)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model._forward(x)
        return out[-1] if isinstance(out, (list, tuple)) else out


def build_model(config: str, checkpoint: str, cfg_options=None):
    """The config's model in eval mode, by the host library that owns it."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    ckpt = None if checkpoint == 'none' else checkpoint
    if cfg.get('default_scope') == 'mmseg':
        from mmseg.apis import init_model
    else:
        from mmpose.apis import init_model
    return init_model(cfg, ckpt, device='cpu').eval()


def export(model: torch.nn.Module, path: str, shape, batch: int,
           opset: int) -> None:
    x = torch.randn(batch, 3, *shape)
    torch.onnx.export(TensorOutput(model), (x, ), path,
                      input_names=['image'], output_names=['output'],
                      dynamic_axes={'image': {0: 'batch'},
                                    'output': {0: 'batch'}},
                      opset_version=opset, dynamo=False)


def max_difference(model: torch.nn.Module, path: str, shape,
                   batches) -> float:
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    wrapped = TensorOutput(model)
    worst = 0.
    for n in batches:
        x = torch.randn(n, 3, *shape)
        with torch.no_grad():
            expected = wrapped(x).numpy()
        got = sess.run(None, {'image': x.numpy()})[0]
        if got.shape != expected.shape:
            raise AssertionError(f'onnxruntime gave {got.shape}, PyTorch '
                                 f'{expected.shape} at batch {n}')
        worst = max(worst, float(abs(got - expected).max()))
    return worst


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

    model = build_model(args.config, args.checkpoint, args.cfg_options)
    if not args.no_fuse:
        # this project's backbones fold every BatchNorm (stem, stages,
        # fusion, FFN); mmcv's pass then folds the conv -> BN pairs of the
        # heads and necks
        backbone = getattr(model, 'backbone', None)
        if hasattr(backbone, 'switch_to_deploy'):
            backbone.switch_to_deploy()
        from mmcv.cnn.utils import fuse_conv_bn
        fuse_conv_bn(model)
    shape = args.shape
    if shape is None:
        codec = getattr(getattr(model, 'head', None), 'decoder', None)
        shape = codec.input_size[::-1] if codec is not None else (512, 512)
    out = args.out or osp.splitext(osp.basename(args.config))[0] + '.onnx'
    export(model, out, shape, args.batch, args.opset)
    if model.training:
        raise AssertionError('export left the model in training mode')
    result = dict(onnx=out, shape=list(shape), fused=not args.no_fuse,
                  max_abs_diff=max_difference(
                      model, out, shape, (args.batch, args.batch + 1)))
    print(json.dumps(result, indent=1))
    if result['max_abs_diff'] > 1e-4:
        # never hand out a graph that computes something else
        raise SystemExit(f'{out}: onnxruntime differs from PyTorch by '
                         f"{result['max_abs_diff']:.3g} (> 1e-4)")
    return result


if __name__ == '__main__':
    main()
