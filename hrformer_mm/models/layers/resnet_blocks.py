"""ResNet blocks used by the HRNet family (stage 1 and HRNet branches).

Attribute names (``conv1``, ``bn1``, ..., ``downsample``) match mmpose and
mmseg so checkpoints of either load unchanged; the ``bn`` names are kept
even when ``norm_cfg`` asks for another normalisation.  ``with_cp``
recomputes a block's activations in the backward pass (gradient
checkpointing), as mmpose's and mmseg's ResNet blocks do.
"""
import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer

__all__ = ['BasicBlock', 'Bottleneck', 'DepthwiseBottleneck', 'make_res_layer']


class _ResidualBlock(nn.Module):
    """``relu(residual(x) + shortcut(x))``, optionally checkpointed."""

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        def inner(x):
            identity = x if self.downsample is None else self.downsample(x)
            return self._residual(x) + identity

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(inner, x, use_reentrant=False)
        else:
            out = inner(x)
        return self.relu(out)


class BasicBlock(_ResidualBlock):
    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 downsample: nn.Module = None, conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN'), with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
        self.conv1 = build_conv_layer(conv_cfg, in_channels, channels, 3,
                                      stride=stride, padding=1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, channels)[1]
        self.conv2 = build_conv_layer(conv_cfg, channels, channels, 3,
                                      padding=1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))


class Bottleneck(_ResidualBlock):
    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 downsample: nn.Module = None, conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN'), with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
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

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


class DepthwiseBottleneck(Bottleneck):
    """A :class:`Bottleneck` whose 3x3 convolution is depthwise: the
    "increment" block of HRFormer's classification head (the reference's
    ``BottleneckDWP``, ``cls/models/modules/bottleneck_block.py``)."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 downsample: nn.Module = None, conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN'), with_cp: bool = False):
        super().__init__(in_channels, channels, stride, downsample, conv_cfg,
                         norm_cfg, with_cp)
        self.conv2 = build_conv_layer(conv_cfg, channels, channels, 3,
                                      stride=stride, padding=1,
                                      groups=channels, bias=False)


def make_res_layer(block: type, in_channels: int, channels: int,
                   num_blocks: int, stride: int = 1, conv_cfg: dict = None,
                   norm_cfg: dict = dict(type='BN'),
                   with_cp: bool = False) -> nn.Sequential:
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
        block(in_channels, channels, stride, downsample, conv_cfg, norm_cfg,
              with_cp)
    ]
    layers += [
        block(out_channels, channels, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
              with_cp=with_cp) for _ in range(1, num_blocks)
    ]
    return nn.Sequential(*layers)
