"""Stochastic depth whose rate is data, not code.

mmcv's (and timm's) ``DropPath`` keeps its rate as a Python float and
returns early when it is 0.  Both are fine in eager mode, but a compiler
specialises on Python constants: with rates rising linearly over the blocks,
every block of a backbone would compile its own copy of the same code
(HRFormer-S: 28 rates), and ``compile_cfg``'s per-block compilation, which
shares one compiled graph among all blocks of one shape, would be lost.

Here the rate lives in a (non-persistent) buffer, so a compiled block sees
it as an input; the only Python branches are ``training`` and whether the
rate is non-zero, two cases in all.  Outputs, and the random numbers drawn,
are mmcv's: the same formula, one ``torch.rand`` per call when active.
"""
from itertools import accumulate
from typing import List, Sequence

import torch
import torch.nn as nn

__all__ = ['DropPath', 'drop_path_rates']


def drop_path_rates(max_rate: float,
                    group_sizes: Sequence[int]) -> List[List[float]]:
    """Stochastic-depth rates rising linearly from 0 to ``max_rate`` over
    ``sum(group_sizes)`` blocks, cut into consecutive groups of those sizes
    (one group per module, say), so each builder reads its own slice."""
    rates = torch.linspace(0, max_rate, sum(group_sizes)).tolist()
    starts = accumulate(group_sizes, initial=0)
    return [rates[start:start + size]
            for start, size in zip(starts, group_sizes)]


class DropPath(nn.Module):
    """Drop the whole residual branch of a sample with probability
    ``drop_prob`` in training, scaling kept ones by ``1 / (1 - drop_prob)``;
    the identity in eval mode or when ``drop_prob`` is 0."""

    def __init__(self, drop_prob: float = 0.):
        super().__init__()
        if not 0 <= drop_prob < 1:
            raise ValueError(f'drop_prob must be in [0, 1), got {drop_prob}')
        self.drop_prob = float(drop_prob)  # for repr and readers only
        self.active = drop_prob > 0
        self.register_buffer('keep_prob', torch.tensor(1. - drop_prob),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # `training` first: in eval mode no other attribute is read, so
        # every block shares one compiled graph whatever its rate
        if not self.training or not self.active:
            return x
        keep = self.keep_prob.to(x.dtype)
        shape = (x.shape[0], ) + (1, ) * (x.ndim - 1)
        mask = (keep + torch.rand(shape, dtype=x.dtype,
                                  device=x.device)).floor()
        return x.div(keep) * mask

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'
