"""HRViT's diversity-enhanced shortcut (DES)."""
import math
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['des_factors', 'DiversityEnhancedShortcut']


def des_factors(in_channels: int, out_channels: int) -> Tuple[int, int, int]:
    """(p, k_in, k_out) of the Kronecker factorisation.

    On n = min(in, out) channels, e = floor(log2 n) and p = 2**(e - e // 2):
    the channels are viewed as k = C / p groups of p (48 -> 8 x 6,
    240 -> 16 x 15, 512 -> 32 x 16), as the reference does.
    """
    n = min(in_channels, out_channels)
    e = int(math.log2(n))
    p = 2**(e - e // 2)
    if in_channels % p or out_channels % p:
        raise ValueError(f'DES needs widths divisible by {p}, got '
                         f'{in_channels} -> {out_channels}')
    return p, in_channels // p, out_channels // p


class DiversityEnhancedShortcut(nn.Module):
    """A Kronecker-factorised linear map: ``p x p`` on the fast axis, GELU,
    ``k_in x k_out`` on the slow one (HRViT, Sec. 3.2).

    Acts on the last dimension of any tensor.
    """

    def __init__(self, in_channels: int, out_channels: int = None):
        super().__init__()
        out_channels = out_channels or in_channels
        self.p, self.k_in, self.k_out = des_factors(in_channels,
                                                     out_channels)
        self.proj_right = nn.Linear(self.p, self.p)
        self.proj_left = nn.Linear(self.k_in, self.k_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        x = self.proj_right(x.reshape(*lead, self.k_in, self.p))
        x = self.proj_left(F.gelu(x.transpose(-1, -2)))
        return x.transpose(-1, -2).reshape(*lead, self.k_out * self.p)
