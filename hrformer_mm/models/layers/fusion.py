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
           'apply_transition', 'complete_upsample_cfg', 'DOWNSAMPLE_MODES',
           'UPSAMPLE_DEFAULTS']


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


#: the fusion's ways down to a lower stream (see MultiResolutionFusion)
DOWNSAMPLE_MODES = ('stepwise', 'stepwise_separable', 'direct')
#: the fusion's upsampling options and their defaults
UPSAMPLE_DEFAULTS = dict(mode='bilinear', by_factor=False,
                         align_corners=False)


def complete_upsample_cfg(upsample_cfg: Optional[dict],
                          defaults: dict = UPSAMPLE_DEFAULTS) -> dict:
    """``upsample_cfg`` completed with ``defaults`` (keys of
    :data:`UPSAMPLE_DEFAULTS`), checked: unknown keys are a KeyError, a mode
    other than 'bilinear' / 'nearest' a ValueError."""
    upsample_cfg = {} if upsample_cfg is None else upsample_cfg
    if not isinstance(upsample_cfg, dict):
        raise TypeError(f'upsample_cfg must be a dict (keys '
                        f'{sorted(UPSAMPLE_DEFAULTS)}), got {upsample_cfg!r}')
    unknown = set(upsample_cfg) - set(UPSAMPLE_DEFAULTS)
    if unknown:
        raise KeyError(f'upsample_cfg: unknown keys {sorted(unknown)}; '
                       f'known: {sorted(UPSAMPLE_DEFAULTS)}')
    upsample = {**UPSAMPLE_DEFAULTS, **defaults, **upsample_cfg}
    if upsample['mode'] not in ('bilinear', 'nearest'):
        raise ValueError(f"upsample_cfg['mode'] must be 'bilinear' or "
                         f"'nearest', got {upsample['mode']!r}")
    return upsample


def _stepwise_down(c_in, c_out, num_steps, separable, conv_cfg,
                   norm_cfg) -> nn.Sequential:
    """``num_steps`` halvings from ``c_in`` to ``c_out`` channels: a 3x3
    stride-2 conv + BN each (``separable``: depthwise, then a 1x1 conv +
    BN), a ReLU between steps."""
    steps = []
    for k in range(num_steps):
        last = k == num_steps - 1
        c = c_out if last else c_in
        if separable:
            step = _conv_bn(c_in, c_in, 3, 2, conv_cfg, norm_cfg,
                            groups=c_in)
            step += _conv_bn(c_in, c, 1, 1, conv_cfg, norm_cfg)
        else:
            step = _conv_bn(c_in, c, 3, 2, conv_cfg, norm_cfg)
        if not last:
            step.append(nn.ReLU(inplace=False))
        steps.append(nn.Sequential(*step))
    return nn.Sequential(*steps)


class MultiResolutionFusion(nn.ModuleList):
    """Sum every input stream, resampled, into every output stream, then an
    activation (``act_cfg``: ReLU in HRNet / HRFormer, GELU in HRViT).

    Args:
        in_channels: width of each input stream.
        out_channels: width of each output stream (default: the inputs').
            Fewer outputs than inputs stop the fusion early (HRNet's last
            module with a single output); more create each new,
            lower-resolution stream inside the fusion, from all inputs, at
            its own width (HRViT).  Where an output keeps its input's width,
            its own stream passes through unchanged.
        downsample: how stream j reaches a lower output stream i (j < i,
            d = i - j halvings), one of :data:`DOWNSAMPLE_MODES`:

            * ``'stepwise'`` (HRNet): per halving a 3x3 stride-2 conv + BN;
            * ``'stepwise_separable'`` (HRFormer): per halving a depthwise
              3x3 stride-2 conv + BN, then a 1x1 conv + BN;
            * ``'direct'`` (HRViT): one depthwise conv of kernel ``2**d + 1``
              and stride ``2**d`` + BN, then a 1x1 conv + BN.

            Stepwise paths put a ReLU between the steps and none after the
            last.
        upsample_cfg: how a higher stream j (j > i) is resampled after its
            1x1 conv + BN, keys of :data:`UPSAMPLE_DEFAULTS` (missing ones
            take those values):

            * ``mode``: ``'bilinear'`` or ``'nearest'``;
            * ``by_factor=False``: straight to the *target stream's size*,
              never by a fixed factor of 2**(j-i): identical when the input
              is a multiple of 32, and it keeps odd sizes working (mmpose's
              HRModule and the HRViT reference fail on them).  This is what
              HRFormer's pose release and mmpose compute ('bilinear'), and
              HRViT ('nearest');
            * ``by_factor=True``: by the fixed factor 2**(j-i) first, then a
              bilinear resize to the target size when the two differ.  This
              is what the reference HRFormer *segmentation* release computes
              ('nearest', align_corners=True) and mmseg's HRNet
              ('bilinear', align_corners=False); at sizes that are a
              multiple of 32 the resize never runs;
            * ``align_corners``: of every bilinear interpolation.
        conv_cfg, norm_cfg: of the convolutions and their norms.
        act_cfg: the activation after the sum, ``dict(type='ReLU')`` or
            ``dict(type='GELU')`` (applied as a function: the fusion holds
            no activation module).
        pointwise_bias: give a bias to the 1x1 convs of the up paths and
            of the ``'direct'`` down paths (HRViT).

    ``self[i][j]`` maps stream j to output stream i (``None``: passes
    through).
    """

    _activations = dict(ReLU=F.relu, GELU=F.gelu)

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: Optional[Sequence[int]] = None,
                 downsample: str = 'stepwise',
                 upsample_cfg: Optional[dict] = None,
                 conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 pointwise_bias: bool = False):
        out_channels = in_channels if out_channels is None else out_channels
        if downsample not in DOWNSAMPLE_MODES:
            raise ValueError(f'downsample must be one of {DOWNSAMPLE_MODES}, '
                             f'got {downsample!r}')
        upsample = complete_upsample_cfg(upsample_cfg)
        act_type = act_cfg.get('type') if isinstance(act_cfg, dict) else None
        if act_type not in self._activations or set(act_cfg) != {'type'}:
            raise ValueError(f"act_cfg must be dict(type=...) with a type "
                             f"of {sorted(self._activations)}, got "
                             f'{act_cfg!r}')
        rows = []
        for i, c_i in enumerate(out_channels):
            row = []
            for j, c_j in enumerate(in_channels):
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
                    row.append(_stepwise_down(
                        c_j, c_i, i - j, downsample == 'stepwise_separable',
                        conv_cfg, norm_cfg))
            rows.append(nn.ModuleList(row))
        super().__init__(rows)
        self.downsample = downsample
        self.upsample_mode = upsample['mode']
        self.upsample_by_factor = upsample['by_factor']
        self.align_corners = upsample['align_corners']
        self.act_cfg = dict(act_cfg)

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

    def forward(self, features: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        act = self._activations[self.act_cfg['type']]
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
