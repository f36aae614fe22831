"""The depthwise-convolution feed-forward network of HRFormer."""
import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer

from .conv_act import Conv2dAct, fusable_activation

__all__ = ['ConvFFN']


class ConvFFN(nn.Module):
    """1x1 conv -> 3x3 depthwise conv -> 1x1 conv, each followed by norm and
    activation (HRFormer, Sec. 3.2).

    The depthwise conv lets information cross the window borders that the
    local attention cannot.  Takes and returns channels-last maps
    (B, H, W, C).  Attribute names follow mmpose's ``CrossFFN``.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 out_channels: int = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='GELU')):
        super().__init__()
        out_channels = out_channels or in_channels
        self.fc1 = nn.Conv2d(in_channels, hidden_channels, 1)
        self.norm1 = build_norm_layer(norm_cfg, hidden_channels)[1]
        self.act1 = build_activation_layer(act_cfg)
        self.dw3x3 = nn.Conv2d(hidden_channels, hidden_channels, 3, padding=1,
                               groups=hidden_channels)
        self.norm2 = build_norm_layer(norm_cfg, hidden_channels)[1]
        self.act2 = build_activation_layer(act_cfg)
        self.fc2 = nn.Conv2d(hidden_channels, out_channels, 1)
        self.norm3 = build_norm_layer(norm_cfg, out_channels)[1]
        self.act3 = build_activation_layer(act_cfg)

    def fuse_conv_activations(self) -> int:
        """Once the norms are folded (``nn.Identity``), make each conv and
        its activation one :class:`Conv2dAct`; returns how many."""
        fused = 0
        for conv, norm, act in (('fc1', 'norm1', 'act1'),
                                ('dw3x3', 'norm2', 'act2'),
                                ('fc2', 'norm3', 'act3')):
            if type(getattr(self, conv)) is nn.Conv2d and isinstance(
                    getattr(self, norm), nn.Identity) and \
                    fusable_activation(getattr(self, act)):
                setattr(self, conv, Conv2dAct.from_conv(
                    getattr(self, conv), getattr(self, act)))
                setattr(self, act, nn.Identity())
                fused += 1
        return fused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 3, 1, 2)
        x = self.act1(self.norm1(self.fc1(x)))
        x = self.act2(self.norm2(self.dw3x3(x)))
        x = self.act3(self.norm3(self.fc2(x)))
        return x.permute(0, 2, 3, 1)
