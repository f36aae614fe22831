"""What every multi-resolution backbone of this package does the same way:
option checks, input checks, default initialisation, ``frozen_stages`` and
``norm_eval``."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['MultiResolutionBackbone']


class MultiResolutionBackbone(BaseModule):
    """Subclasses call :meth:`_set_options` and list what ``frozen_stages``
    freezes in :meth:`_frozen_modules`."""

    in_channels: int
    out_indices: tuple
    frozen_stages: int
    norm_eval: bool

    def _set_options(self, in_channels: int, out_indices: Sequence[int],
                     num_streams: int, frozen_stages: int, num_stages: int,
                     norm_eval: bool) -> None:
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(num_streams)
                                  for i in out_indices):
            raise ValueError(f'out_indices must be a non-empty subset of '
                             f'0..{num_streams - 1}, got {out_indices}')
        if frozen_stages not in range(-1, num_stages + 1):
            raise ValueError(f'frozen_stages must be in -1..{num_stages}, '
                             f'got {frozen_stages}')
        self.in_channels = in_channels
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

    def _default_init(self, conv_init: bool = True) -> None:
        """Linears truncated normal (std 0.02), norms to identity, convs
        Kaiming (fan out) unless ``conv_init`` is off; biases zero."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Conv2d) and conv_init:
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (_BatchNorm, nn.GroupNorm, nn.LayerNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _check_input(self, x: torch.Tensor) -> None:
        name = type(self).__name__
        if x.dim() != 4:
            raise ValueError(f'{name} expects a (N, C, H, W) batch, got a '
                             f'tensor of shape {tuple(x.shape)}')
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'{name} was built for {self.in_channels}-channel input but '
                f'got {x.shape[1]} channels (shape {tuple(x.shape)}); convert '
                f'the images (e.g. RGBA -> RGB) or set in_channels')

    def _frozen_modules(self) -> List[nn.Module]:
        raise NotImplementedError

    def _freeze_stages(self) -> None:
        for m in self._frozen_modules():
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True) -> 'MultiResolutionBackbone':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
