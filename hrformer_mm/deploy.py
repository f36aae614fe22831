"""Export a pose or segmentation model to ONNX and check it with onnxruntime.

The graph maps a normalised image batch (N, 3, H, W) to the head's raw
output: heatmaps for pose configs, class logits at 1/4 resolution for
segmentation configs (pre-processing and decoding stay outside, as in
mmdeploy's SDK split); the batch axis is dynamic.  ``tools/deploy/
export_onnx.py`` is the command line.
"""
import torch


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


def fuse(model: torch.nn.Module) -> None:
    """Fold the BatchNorm layers into their convolutions: this project's
    backbones fold every one of theirs (stem, stages, fusion, FFN);
    mmcv's pass then folds the conv -> BN pairs of the heads and necks."""
    backbone = getattr(model, 'backbone', None)
    if hasattr(backbone, 'switch_to_deploy'):
        backbone.switch_to_deploy()
    from mmcv.cnn.utils import fuse_conv_bn
    fuse_conv_bn(model)


def default_shape(model: torch.nn.Module) -> tuple:
    """(H, W) to export at: the pose codec's input size, else 512 x 512."""
    codec = getattr(getattr(model, 'head', None), 'decoder', None)
    return tuple(codec.input_size[::-1]) if codec is not None else (512, 512)
