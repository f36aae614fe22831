"""Multi-resolution plumbing shared by the HRNet family: transitions between
stages, the fusion that exchanges information across streams, and the
module that runs parallel branches and then fuses them.

Stream ``i`` has 1 / 2**i the resolution of stream 0.  Key names follow
mmpose / mmseg (``transition{n}.{i}``, ``fuse_layers.{i}.{j}``,
``branches.{i}``) so their checkpoints load unchanged.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer

__all__ = ['make_transition', 'MultiResolutionFusion', 'HighResolutionModule',
           'apply_transition']


def _conv_bn(in_channels, out_channels, kernel_size, stride, conv_cfg,
             norm_cfg, groups=1, relu=False, bias=False) -> List[nn.Module]:
    layers = [
        build_conv_layer(conv_cfg, in_channels, out_channels, kernel_size,
                         stride=stride, padding=kernel_size // 2,
                         groups=groups, bias=bias),
        build_norm_layer(norm_cfg, out_channels)[1]
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return layers


def make_transition(in_channels: Sequence[int], out_channels: Sequence[int],
                    conv_cfg: dict = None,
                    norm_cfg: dict = dict(type='BN')) -> nn.ModuleList:
    """HRNet transition: a 3x3 conv where an existing stream changes width,
    and a chain of 3x3 stride-2 convs from the lowest stream for each new
    one.  ``None`` marks streams that pass through unchanged."""
    layers = []
    num_pre = len(in_channels)
    for i, c_out in enumerate(out_channels):
        if i < num_pre:
            layers.append(None if in_channels[i] == c_out else nn.Sequential(
                *_conv_bn(in_channels[i], c_out, 3, 1, conv_cfg, norm_cfg,
                          relu=True)))
            continue
        steps = []
        for j in range(i + 1 - num_pre):
            c_in = in_channels[-1]
            c = c_out if j == i - num_pre else c_in
            steps.append(nn.Sequential(
                *_conv_bn(c_in, c, 3, 2, conv_cfg, norm_cfg, relu=True)))
        layers.append(nn.Sequential(*steps))
    return nn.ModuleList(layers)


def apply_transition(transition: nn.ModuleList,
                     features: Sequence[torch.Tensor]) -> List[torch.Tensor]:
    """New streams branch off the lowest-resolution input stream."""
    out = []
    for i, layer in enumerate(transition):
        x = features[i] if i < len(features) else features[-1]
        out.append(x if layer is None else layer(x))
    return out


class MultiResolutionFusion(nn.ModuleList):
    """Sum every stream, resampled, into every output stream, then an
    activation (ReLU in HRNet / HRFormer, GELU in HRViT).

    ``fuse[i][j]`` maps stream j to output stream i:
      * j > i (low to high): 1x1 conv + BN, then upsampling (see below);
      * j < i (high to low), ``downsample='stepwise'`` (HRNet): per halving
        step a 3x3 stride-2 conv + BN (and a 1x1 conv + BN when
        ``depthwise``, HRFormer's variant), ReLU between steps and none
        after the last;
      * j < i, ``downsample='direct'`` (HRViT): one depthwise conv of kernel
        ``2**d + 1`` and stride ``2**d`` (d = i - j) + BN, then 1x1 conv +
        BN.

    ``out_channels`` may name more outputs than there are inputs: HRViT
    creates each new, lower-resolution stream inside the fusion, from all
    inputs, at the new stream's own width.  Where an output keeps its
    input's width its own stream passes through unchanged.

    Upsampling (``upsample_mode`` 'bilinear' or 'nearest'):
      * by default straight to the *target stream's size*, never by a fixed
        factor of 2**(j-i): identical when the input is a multiple of 32, and
        it keeps odd sizes working (mmpose's HRModule and the HRViT reference
        fail on them).  This is what HRFormer's pose release and mmpose
        compute ('bilinear'), and HRViT ('nearest').
      * ``upsample_by_factor=True``: by the fixed factor 2**(j-i) first, then
        a bilinear resize (``align_corners`` as given) to the target size
        when the two differ.  This is what the reference HRFormer
        *segmentation* release computes ('nearest', align_corners=True) and
        mmseg's HRNet ('bilinear', align_corners=False); at sizes that are a
        multiple of 32 the resize never runs.
    """

    _activations = dict(ReLU=F.relu, GELU=F.gelu)

    def __init__(self,
                 channels: Sequence[int],
                 num_outputs: Optional[int] = None,
                 depthwise: bool = True,
                 upsample_mode: str = 'bilinear',
                 upsample_by_factor: bool = False,
                 align_corners: bool = False,
                 conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN'),
                 out_channels: Optional[Sequence[int]] = None,
                 downsample: str = 'stepwise',
                 pointwise_bias: bool = False,
                 act: str = 'ReLU'):
        if out_channels is None:
            num_outputs = len(channels) if num_outputs is None \
                else num_outputs
            out_channels = channels[:num_outputs]
        if upsample_mode not in ('bilinear', 'nearest'):
            raise ValueError(f"upsample_mode must be 'bilinear' or 'nearest', "
                             f'got {upsample_mode!r}')
        if downsample not in ('stepwise', 'direct'):
            raise ValueError(f"downsample must be 'stepwise' or 'direct', "
                             f'got {downsample!r}')
        if act not in self._activations:
            raise ValueError(f'act must be one of {sorted(self._activations)}'
                             f', got {act!r}')
        rows = []
        for i, c_i in enumerate(out_channels):
            row = []
            for j, c_j in enumerate(channels):
                if j == i and c_j == c_i:
                    row.append(None)
                elif j >= i:
                    row.append(nn.Sequential(
                        *_conv_bn(c_j, c_i, 1, 1, conv_cfg, norm_cfg,
                                  bias=pointwise_bias)))
                elif downsample == 'direct':
                    step = 2**(i - j)
                    row.append(nn.Sequential(
                        *_conv_bn(c_j, c_j, step + 1, step, conv_cfg,
                                  norm_cfg, groups=c_j),
                        *_conv_bn(c_j, c_i, 1, 1, conv_cfg, norm_cfg,
                                  bias=pointwise_bias)))
                else:
                    row.append(self._stepwise_down(c_j, c_i, i - j, depthwise,
                                                   conv_cfg, norm_cfg))
            rows.append(nn.ModuleList(row))
        super().__init__(rows)
        self.upsample_mode = upsample_mode
        self.upsample_by_factor = upsample_by_factor
        self.align_corners = align_corners
        self.act = act

    def upsample(self, x: torch.Tensor, factor: int,
                 size: torch.Size) -> torch.Tensor:
        """Bring a lower stream, already at the target width, to ``size``."""
        mode = self.upsample_mode
        if self.upsample_by_factor:
            x = self._interpolate(x, mode, scale_factor=factor)
            if x.shape[-2:] == size:
                return x
            mode = 'bilinear'
        return self._interpolate(x, mode, size=size)

    def _interpolate(self, x: torch.Tensor, mode: str, **where):
        align = self.align_corners if mode == 'bilinear' else None
        return F.interpolate(x, mode=mode, align_corners=align, **where)

    @staticmethod
    def _stepwise_down(c_in, c_out, num_steps, depthwise, conv_cfg,
                       norm_cfg) -> nn.Sequential:
        steps = []
        for k in range(num_steps):
            last = k == num_steps - 1
            c = c_out if last else c_in
            if depthwise:
                step = _conv_bn(c_in, c_in, 3, 2, conv_cfg, norm_cfg,
                                groups=c_in)
                step += _conv_bn(c_in, c, 1, 1, conv_cfg, norm_cfg)
            else:
                step = _conv_bn(c_in, c, 3, 2, conv_cfg, norm_cfg)
            if not last:
                step.append(nn.ReLU(inplace=False))
            steps.append(nn.Sequential(*step))
        return nn.Sequential(*steps)

    def forward(self, features: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        act = self._activations[self.act]
        out = []
        for i, row in enumerate(self):
            y = 0
            for j, layer in enumerate(row):
                z = features[j] if layer is None else layer(features[j])
                if j > i:
                    z = self.upsample(z, 2**(j - i),
                                      features[i].shape[-2:])
                y = y + z
            out.append(act(y))
        return out


class HighResolutionModule(nn.Module):
    """Parallel branches, one per stream, followed by a fusion.

    A single-branch module has no fusion (as in HRNet).
    """

    def __init__(self, branches: Sequence[nn.Module],
                 fuse_layers: Optional[MultiResolutionFusion]):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.fuse_layers = fuse_layers

    def forward(self, features: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        if len(features) != len(self.branches):
            raise ValueError(f'expected {len(self.branches)} streams, got '
                             f'{len(features)}')
        features = [branch(x) for branch, x in zip(self.branches, features)]
        if self.fuse_layers is None:
            return features
        return self.fuse_layers(features)
