"""Convolution + activation as one kernel, for deployed (BatchNorm-folded)
models running inference on a CPU.

Once BatchNorm is folded into the convolution before it, HRFormer's FFN is
``GELU(conv1x1) -> GELU(dwconv3x3) -> GELU(conv1x1)`` and the HRNet-style
transitions and fusion steps are ``ReLU(conv)``.  Run eagerly, each
activation is a second pass over a freshly allocated tensor as large as the
convolution's output (on HRFormer-S at 256x192 the FFN's hidden maps are
up to 12.6 MB per 8 images).  oneDNN, PyTorch's CPU convolution library,
can apply the activation in the convolution's epilogue instead, while the
output tile is still in cache: ``torch.ops.mkldnn._convolution_pointwise``,
the kernel ``torch.compile`` (inductor) emits for the same pattern.

:class:`Conv2dAct` does that where it can (CPU, float32, no autograd, not
being traced, exported or compiled) and otherwise runs the convolution and
the activation module one after the other, so exports and compiled graphs
see the standard operators.  It shares the convolution's parameters, so a
model's state-dict keys do not change.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn

from .graph_capture import capturing_graph

__all__ = ['Conv2dAct', 'fuse_conv_activations', 'fusable_activation']

_POINTWISE = getattr(getattr(torch.ops, 'mkldnn', None),
                     '_convolution_pointwise', None) \
    if torch.backends.mkldnn.is_available() else None


def fusable_activation(act: nn.Module) -> Optional[Tuple[str, str]]:
    """oneDNN's (attr, algorithm) for ``act``, or None if it has none."""
    if type(act) is nn.ReLU:
        return 'relu', ''
    if type(act) is nn.GELU:
        return 'gelu', act.approximate  # 'none' (erf) or 'tanh'
    return None


class Conv2dAct(nn.Conv2d):
    """``act(conv(x))``, one oneDNN kernel on CPU in inference.

    Build with :meth:`from_conv`; the result holds the same ``weight`` and
    ``bias`` parameters as the convolution it replaces.
    """

    act: nn.Module

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, act: nn.Module) -> 'Conv2dAct':
        if fusable_activation(act) is None:
            raise TypeError(f'{type(act).__name__} has no oneDNN fusion')
        new = cls(conv.in_channels, conv.out_channels, conv.kernel_size,
                  conv.stride, conv.padding, conv.dilation, conv.groups,
                  conv.bias is not None, conv.padding_mode, device='meta')
        new.weight, new.bias = conv.weight, conv.bias
        new.act = act
        new.train(conv.training)
        return new

    def _one_kernel(self, x: torch.Tensor) -> bool:
        return (not capturing_graph() and _POINTWISE is not None
                and x.device.type == 'cpu' and x.dtype == torch.float32
                and x.dim() == 4 and self.padding_mode == 'zeros'
                and not isinstance(self.padding, str)
                and not (torch.is_grad_enabled() and
                         (x.requires_grad or self.weight.requires_grad)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._one_kernel(x):
            attr, algorithm = fusable_activation(self.act)
            return _POINTWISE(x, self.weight, self.bias, list(self.padding),
                              list(self.stride), list(self.dilation),
                              self.groups, attr, [], algorithm)
        return self.act(super().forward(x))


def _fuse_sequential(seq: nn.Sequential) -> int:
    """Fuse each plain ``Conv2d`` that is followed, past any
    ``nn.Identity`` (a folded BatchNorm), by a fusable activation."""
    names = list(seq._modules)
    fused = 0
    for i, name in enumerate(names):
        if type(seq._modules[name]) is not nn.Conv2d:
            continue
        j = i + 1
        while j < len(names) and isinstance(seq._modules[names[j]],
                                            nn.Identity):
            j += 1
        if j < len(names) and fusable_activation(seq._modules[names[j]]):
            act = seq._modules[names[j]]
            seq._modules[name] = Conv2dAct.from_conv(seq._modules[name], act)
            seq._modules[names[j]] = nn.Identity()
            fused += 1
    return fused


def fuse_conv_activations(model: nn.Module) -> int:
    """Turn conv -> activation pairs of a BatchNorm-folded ``model`` into
    :class:`Conv2dAct`, in place; returns how many.

    Only pairs whose order of execution is certain are touched: adjacent
    entries of an ``nn.Sequential`` (a folded BN between them is an
    ``nn.Identity``) and modules that name their own pairs through a
    ``fuse_conv_activations()`` method (e.g. :class:`ConvFFN`).  A module
    that merely registers a conv before an activation, and applies the
    activation after a residual sum (ResNet blocks), is left alone.
    """
    fused = 0
    for m in list(model.modules()):
        own = getattr(m, 'fuse_conv_activations', None)
        if callable(own):
            fused += own()
        elif isinstance(m, nn.Sequential):
            fused += _fuse_sequential(m)
    return fused
