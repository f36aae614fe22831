"""What every multi-resolution backbone of this package does the same way:
input checks, ``frozen_stages`` and ``norm_eval``."""
from typing import List

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['MultiResolutionBackbone']


class MultiResolutionBackbone(BaseModule):
    """Subclasses set ``in_channels``, ``frozen_stages`` and ``norm_eval``
    and list what ``frozen_stages`` freezes in :meth:`_frozen_modules`."""

    in_channels: int
    frozen_stages: int
    norm_eval: bool

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
