"""The stand-in for ``mmcv._ext`` (mmcv's compiled ops) on mmcv-lite.

mmcv-lite ships no compiled extension, yet ``mmpose.models``,
``mmseg.models`` and ``mmdet.models`` import ``mmcv.ops`` at import time, and
mmdet's detectors call a few compiled ops for real.  mmcv's ``ext_loader``
only looks op names up on ``mmcv._ext``, so the module built by
:func:`make_ext_module` serves, with mmcv's calling convention (keyword
names, in-place output tensors), on CPU and CUDA tensors alike:

* the ops in :data:`TORCHVISION_OPS` from torchvision's compiled kernels;
* the ops in :data:`TORCH_OPS`, which torchvision lacks in mmcv's form, as
  PyTorch expressions of mmcv's kernel formulas;
* every other name as a function that raises :class:`MissingCompiledOpError`
  naming the op, so the first real use fails with its name instead of an
  ImportError far away.

It is used only where no real ``mmcv/_ext*.so`` exists: :mod:`hrformer_mm
.compat` (on ``import hrformer_mm``) and the start-up finder
``_hrformer_mm_ext_finder`` (for scripts that import a host's API first) both
look for the real extension before falling back to this one.

This module imports nothing from ``hrformer_mm``: the start-up finder loads
it while mmcv is being imported, before the package could be.
"""
import importlib.machinery
import types

FULL_MMCV_HINT = ('Rebuild the environment with HRFORMER_FULL_MMCV=1 bash '
                  'tools/setup_env.sh to compile mmcv 2.1.0 with its ops.')


class MissingCompiledOpError(RuntimeError):
    """Raised when code calls an mmcv compiled op that mmcv-lite lacks."""


class UnsupportedOpOptionError(MissingCompiledOpError):
    """An op served by torchvision was called with an option torchvision's
    kernel does not have (no silent approximation)."""


def _unsupported(op: str, option: str, why: str):
    return UnsupportedOpOptionError(
        f'mmcv compiled op "{op}" with {option} is not available: this '
        f'environment uses mmcv-lite, whose "{op}" is served by torchvision, '
        f'which has no {why}. {FULL_MMCV_HINT}')


def _torchvision_ops():
    # importing torchvision loads its compiled library and registers
    # torch.ops.torchvision.*; deferred so that building the module stays cheap
    import torch
    import torchvision  # noqa: F401
    return torch.ops.torchvision


def nms(boxes, scores, iou_threshold, offset=0):
    """``ext_module.nms(boxes, scores, iou_threshold=, offset=)``: indices
    kept, by decreasing score (mmcv's ``NMSop`` filters and truncates)."""
    if int(offset) != 0:
        raise _unsupported('nms', f'offset={offset}',
                           'offset=1 box convention (width = x2 - x1 + 1)')
    import torch
    # mmcv accepts boxes and scores of different float types, torchvision
    # wants one
    dtype = torch.promote_types(boxes.dtype, scores.dtype)
    return _torchvision_ops().nms(boxes.to(dtype), scores.to(dtype),
                                  float(iou_threshold))


_POOL_MAX = 0  # mmcv's RoIAlignFunction: 0 = 'max', 1 = 'avg'


def roi_align_forward(input, rois, output, argmax_y, argmax_x,
                      aligned_height, aligned_width, spatial_scale,
                      sampling_ratio, pool_mode, aligned):
    """Writes the pooled features into ``output`` (mmcv allocates it).
    ``argmax_y`` / ``argmax_x`` are only filled in max mode, which
    torchvision lacks."""
    if int(pool_mode) == _POOL_MAX:
        raise _unsupported('roi_align_forward', "pool_mode='max'",
                           'max pooling in RoIAlign (only the average)')
    # sampling_ratio 0 (mmcv) and -1 (torchvision) both mean adaptive
    # (ceil(roi size / output size)); aligned has the same meaning in both
    # (shift by -0.5 pixel; aligned=False clamps rois to at least 1 pixel)
    pooled = _torchvision_ops().roi_align(
        input, rois.to(input.dtype), float(spatial_scale),
        int(aligned_height), int(aligned_width), int(sampling_ratio),
        bool(aligned))
    output.copy_(pooled)


def roi_align_backward(grad_output, rois, argmax_y, argmax_x, grad_input,
                       aligned_height, aligned_width, spatial_scale,
                       sampling_ratio, pool_mode, aligned):
    """Accumulates the input gradient into ``grad_input`` (mmcv passes
    zeros of the input's shape), as mmcv's kernels do."""
    if int(pool_mode) == _POOL_MAX:
        raise _unsupported('roi_align_backward', "pool_mode='max'",
                           'max pooling in RoIAlign (only the average)')
    batch, channels, height, width = grad_input.shape
    grad = _torchvision_ops()._roi_align_backward(
        grad_output, rois.to(grad_output.dtype), float(spatial_scale),
        int(aligned_height), int(aligned_width), batch, channels, height,
        width, int(sampling_ratio), bool(aligned))
    grad_input.add_(grad)


#: mmcv op name -> implementation on torchvision's compiled kernels.
#: Enough for mmdet's Faster / Mask / Cascade (Mask) R-CNN and HTC: ``nms``
#: (RPN proposals, ``multiclass_nms``), ``roi_align_*`` (RoI extractors, and
#: the mask heads' ``mask_target`` through ``BitmapMasks.crop_and_resize``).
TORCHVISION_OPS = {
    'nms': nms,
    'roi_align_forward': roi_align_forward,
    'roi_align_backward': roi_align_backward,
}

_FLT_MIN = 1.1754943508222875e-38  # mmcv's kernels clamp log() inputs here


def _sigmoid_focal_parts(input, target, weight, op):
    """``(p, positive, scale)`` of mmcv's sigmoid focal loss kernels:
    the sigmoid, where ``target[n] == c``, and the class weight
    ``weight[target[n]]`` per sample (None without a weight)."""
    import torch
    num_classes = input.size(1)
    if target.numel() and int(target.max()) > num_classes:
        # the kernel launcher's own check
        raise RuntimeError(f'{op}: target label should smaller or equal '
                           f'than num classes')
    positive = target[:, None] == torch.arange(num_classes,
                                               device=input.device)
    scale = None
    if weight.numel():
        if target.numel() and (int(target.min()) < 0
                               or int(target.max()) >= num_classes):
            raise ValueError(
                f'mmcv compiled op "{op}" with a class weight and a '
                f'background target (target == num_classes) reads past the '
                f'weight in mmcv\'s kernel: no defined value to reproduce')
        scale = weight[target][:, None]
    return torch.sigmoid(input), positive, scale


def sigmoid_focal_loss_forward(input, target, weight, output, gamma, alpha):
    """Writes the loss per sample and class into ``output`` (mmcv
    allocates it), as mmcv's kernel: with p = sigmoid(x), -alpha (1 -
    p)^gamma log(p) for the target class, -(1 - alpha) p^gamma log(1 - p)
    for the others (a target of ``num_classes`` is background: negative
    everywhere), log's argument clamped at FLT_MIN, times
    ``weight[target]`` when ``weight`` is not empty."""
    p, positive, scale = _sigmoid_focal_parts(
        input, target, weight, 'sigmoid_focal_loss_forward')
    gamma, alpha = float(gamma), float(alpha)
    term_p = (1 - p).pow(gamma) * p.clamp(min=_FLT_MIN).log()
    term_n = p.pow(gamma) * (1 - p).clamp(min=_FLT_MIN).log()
    loss = (-alpha * term_p).where(positive, -(1 - alpha) * term_n)
    output.copy_(loss if scale is None else loss * scale)


def sigmoid_focal_loss_backward(input, target, weight, grad_input, gamma,
                                alpha):
    """Writes d loss / d input into ``grad_input`` (mmcv scales it by the
    incoming gradient and the reduction), by the kernel's closed form:
    -alpha (1 - p)^gamma (1 - p - gamma p log(p)) for the target class,
    -(1 - alpha) p^gamma (gamma (1 - p) log(1 - p) - p) for the others."""
    p, positive, scale = _sigmoid_focal_parts(
        input, target, weight, 'sigmoid_focal_loss_backward')
    gamma, alpha = float(gamma), float(alpha)
    term_p = (1 - p).pow(gamma) * (
        1 - p - gamma * p * p.clamp(min=_FLT_MIN).log())
    term_n = p.pow(gamma) * (
        gamma * (1 - p) * (1 - p).clamp(min=_FLT_MIN).log() - p)
    grad = (-alpha * term_p).where(positive, -(1 - alpha) * term_n)
    grad_input.copy_(grad if scale is None else grad * scale)


#: mmcv op name -> implementation in PyTorch operations, where torchvision
#: has no kernel in mmcv's form (its ``sigmoid_focal_loss`` takes one-hot
#: targets and has no class weight).  ``sigmoid_focal_loss_*``: mmdet's
#: ``FocalLoss`` on CUDA tensors (FCOS, RetinaNet; on CPU it computes the
#: loss in PyTorch itself).
TORCH_OPS = {
    'sigmoid_focal_loss_forward': sigmoid_focal_loss_forward,
    'sigmoid_focal_loss_backward': sigmoid_focal_loss_backward,
}

#: every op the placeholder serves
SERVED_OPS = {**TORCHVISION_OPS, **TORCH_OPS}

ORIGIN = 'hrformer_mm.ops_fallback'


def _missing_op(name: str):

    def missing(*args, **kwargs):
        raise MissingCompiledOpError(
            f'mmcv compiled op "{name}" is not available: this environment '
            f'uses mmcv-lite (ops served: '
            f'{", ".join(sorted(SERVED_OPS))}). {FULL_MMCV_HINT}')

    missing.__name__ = missing.__qualname__ = name
    return missing


class _ExtModule(types.ModuleType):

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        return _missing_op(name)


def make_ext_module(spec=None) -> types.ModuleType:
    """A fresh ``mmcv._ext`` module (see the module docstring)."""
    module = _ExtModule('mmcv._ext')
    module.__dict__.update(SERVED_OPS)
    # importlib.util.find_spec('mmcv._ext') (mmpose's init_model calls it)
    # raises ValueError on a module whose __spec__ is None
    module.__spec__ = spec or importlib.machinery.ModuleSpec(
        'mmcv._ext', None, origin=ORIGIN)
    module.__file__ = None
    module.is_placeholder = True
    return module
