"""The depthwise-convolution feed-forward network of HRFormer."""
import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer

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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 3, 1, 2)
        x = self.act1(self.norm1(self.fc1(x)))
        x = self.act2(self.norm2(self.dw3x3(x)))
        x = self.act3(self.norm3(self.fc2(x)))
        return x.permute(0, 2, 3, 1)
