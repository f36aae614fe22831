"""Convolutional stem and per-branch patch embedding of HRViT."""
import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer

__all__ = ['ConvStem', 'EfficientPatchEmbed']


class ConvStem(nn.Module):
    """Two 3x3 stride-2 convs, each followed by norm and ReLU: 1/4 of the
    input resolution, ``out_channels // 2`` channels in between."""

    def __init__(self, in_channels: int = 3, out_channels: int = 64,
                 bias: bool = True, conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN')):
        super().__init__()
        mid = out_channels // 2
        self.conv1 = build_conv_layer(conv_cfg, in_channels, mid, 3, stride=2,
                                      padding=1, bias=bias)
        self.bn1 = build_norm_layer(norm_cfg, mid)[1]
        self.conv2 = build_conv_layer(conv_cfg, mid, out_channels, 3,
                                      stride=2, padding=1, bias=bias)
        self.bn2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(x)))


class EfficientPatchEmbed(nn.Module):
    """1x1 conv, 3x3 depthwise conv (both with bias), LayerNorm (HRViT,
    Sec. 3.4).  (B, C_in, H, W) -> channels-last (B, H, W, C)."""

    def __init__(self, in_channels: int, out_channels: int,
                 norm_cfg: dict = dict(type='LN', eps=1e-5)):
        super().__init__()
        self.pwconv = nn.Conv2d(in_channels, out_channels, 1)
        self.dwconv = nn.Conv2d(out_channels, out_channels, 3, padding=1,
                                groups=out_channels)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dwconv(self.pwconv(x))
        return self.norm(x.permute(0, 2, 3, 1))
