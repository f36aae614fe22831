"""ResNet blocks used by the HRNet family (stage 1 and HRNet branches).

Attribute names (``conv1``, ``bn1``, ..., ``downsample``) match mmpose and
mmseg so checkpoints of either load unchanged; the ``bn`` names are kept
even when ``norm_cfg`` asks for another normalisation.
"""
import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer

__all__ = ['BasicBlock', 'Bottleneck', 'make_res_layer']


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 downsample: nn.Module = None, conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN')):
        super().__init__()
        self.conv1 = build_conv_layer(conv_cfg, in_channels, channels, 3,
                                      stride=stride, padding=1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, channels)[1]
        self.conv2 = build_conv_layer(conv_cfg, channels, channels, 3,
                                      padding=1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 downsample: nn.Module = None, conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN')):
        super().__init__()
        self.conv1 = build_conv_layer(conv_cfg, in_channels, channels, 1,
                                      bias=False)
        self.bn1 = build_norm_layer(norm_cfg, channels)[1]
        self.conv2 = build_conv_layer(conv_cfg, channels, channels, 3,
                                      stride=stride, padding=1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, channels)[1]
        self.conv3 = build_conv_layer(conv_cfg, channels,
                                      channels * self.expansion, 1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, channels * self.expansion)[1]
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def make_res_layer(block: type, in_channels: int, channels: int,
                   num_blocks: int, stride: int = 1, conv_cfg: dict = None,
                   norm_cfg: dict = dict(type='BN')) -> nn.Sequential:
    """``num_blocks`` residual blocks; the first projects the shortcut when
    the width or resolution changes."""
    out_channels = channels * block.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(
            build_conv_layer(conv_cfg, in_channels, out_channels, 1,
                             stride=stride, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])
    layers = [
        block(in_channels, channels, stride, downsample, conv_cfg, norm_cfg)
    ]
    layers += [
        block(out_channels, channels, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        for _ in range(1, num_blocks)
    ]
    return nn.Sequential(*layers)
