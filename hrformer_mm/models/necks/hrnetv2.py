"""HRNetV2 read-outs of multi-resolution streams, as one neck.

Wang et al., "Deep High-Resolution Representation Learning for Visual
Recognition", TPAMI 2020 (https://arxiv.org/abs/1908.07919), Fig. 4:

* **V1** (pose): the highest-resolution stream alone;
* **V2** (segmentation, facial landmarks): every stream upsampled
  bilinearly to the highest stream's size and concatenated, optionally mixed
  by a 1x1 conv + BN + ReLU;
* **V2p** (detection): V2, reduced by a 1x1 conv, then pooled into a pyramid
  of ``num_outs`` levels (strides 1, 2, 4, ... of stream 0), each level
  through its own 3x3 conv (of ``stride`` 2 for FCOS, whose levels start
  at stride 8).

Each host hides its own version inside a head (mmseg's ``resize_concat``
input transform, mmdet's ``HRFPN``); here it is a neck that any
multi-resolution backbone of this project feeds, from mmpose, mmseg or
mmdet.  V2 equals mmseg's ``resize_concat``; V2p with ``norm_cfg=None,
act_cfg=None`` equals mmdet's ``HRFPN`` and has its key names
(``reduction_conv``, ``fpn_convs.{i}``), so HRFPN weights load unchanged.
Unlike ``HRFPN`` (which upsamples by fixed factors of 2), streams are
resized to stream 0's size, so inputs that are not multiples of 32 work.

Output contract: ``forward(streams)`` takes the streams highest resolution
first and returns a tuple of ``num_outs`` tensors, every one with
``out_channels`` channels; output ``k`` has stream 0's size divided by
``2**k`` (rounded down), then by the 3x3 convs' ``stride`` (a padded conv:
``(n - 1) // stride + 1``): ``(1,)`` output for V1 and V2, ``num_outs`` for
V2p.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from hrformer_mm.registry import MODELS

__all__ = ['HRNetV2Neck', 'resize_concat']


def resize_concat(streams: Sequence[torch.Tensor],
                  align_corners: bool = False) -> torch.Tensor:
    """Every stream resized bilinearly to the first one's size, then
    concatenated along channels (HRNetV2's representation)."""
    size = streams[0].shape[-2:]
    return torch.cat([streams[0]] + [
        F.interpolate(x, size=size, mode='bilinear',
                      align_corners=align_corners) for x in streams[1:]
    ], dim=1)


@MODELS.register_module()
class HRNetV2Neck(BaseModule):
    """HRNetV1 / V2 / V2p representations of a multi-resolution backbone.

    Args:
        in_channels: channels of each input stream, highest resolution
            first.
        mode: ``'v1'``, ``'v2'`` or ``'v2p'``.
        out_channels: width of the 1x1 conv after the concatenation.
            ``None`` (V2 only) keeps the concatenation as it is; V2p needs
            it (256 in the paper's detectors).  Ignored by V1.
        num_outs: pyramid levels of V2p (5 for Faster R-CNN's FPN strides
            4..64); V1 and V2 have one output.
        pooling_type: ``'AVG'`` or ``'MAX'``, V2p's downsampling.
        stride: of V2p's 3x3 convs (mmdet's ``HRFPN`` ``stride``): 1 for
            the R-CNNs (levels at strides 4..64), 2 for FCOS (8..128); V1
            and V2 have no such conv and take only 1.
        align_corners: of the bilinear upsampling (mmseg's heads default to
            False, HRNet's reference segmentation code to True).
        norm_cfg, act_cfg: of the 1x1 conv (BN + ReLU, as the HRNetV2 paper's
            segmentation head).  V2p's 3x3 convs take ``norm_cfg`` but no
            activation; ``norm_cfg=None, act_cfg=None`` is mmdet's HRFPN.
        with_cp: gradient checkpointing of the convs.
    """

    MODES = ('v1', 'v2', 'v2p')

    def __init__(self,
                 in_channels: Sequence[int],
                 mode: str = 'v2',
                 out_channels: Optional[int] = None,
                 num_outs: int = 5,
                 pooling_type: str = 'AVG',
                 stride: int = 1,
                 align_corners: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 with_cp: bool = False,
                 init_cfg=dict(type='Kaiming', layer='Conv2d')):
        super().__init__(init_cfg=init_cfg)
        if mode not in self.MODES:
            raise ValueError(f'mode must be one of {self.MODES}, got '
                             f'{mode!r}')
        if pooling_type not in ('AVG', 'MAX'):
            raise ValueError(f"pooling_type must be 'AVG' or 'MAX', got "
                             f'{pooling_type!r}')
        in_channels = list(in_channels)
        if not in_channels:
            raise ValueError('in_channels must name at least one stream')
        if stride != 1 and mode != 'v2p':
            raise ValueError(f'stride={stride} applies to the 3x3 convs of '
                             f"mode='v2p' only; mode={mode!r} has none")
        if mode == 'v2p' and out_channels is None:
            raise ValueError("mode='v2p' needs out_channels (the pyramid's "
                             'width, 256 in the paper)')
        self.in_channels = in_channels
        self.mode = mode
        self.align_corners = align_corners
        self.with_cp = with_cp
        self.pooling = F.max_pool2d if pooling_type == 'MAX' else \
            F.avg_pool2d
        self.num_outs = num_outs if mode == 'v2p' else 1
        self.reduction_conv = None
        if mode == 'v1':
            self.out_channels = in_channels[0]
            return
        self.out_channels = sum(in_channels)
        if out_channels is not None:
            self.reduction_conv = ConvModule(
                sum(in_channels), out_channels, 1, conv_cfg=conv_cfg,
                norm_cfg=norm_cfg, act_cfg=act_cfg)
            self.out_channels = out_channels
        if mode == 'v2p':
            self.fpn_convs = nn.ModuleList([
                ConvModule(out_channels, out_channels, 3, stride=stride,
                           padding=1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                           act_cfg=None)
                for _ in range(num_outs)
            ])

    def _run(self, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(layer, x, use_reentrant=False)
        return layer(x)

    def forward(self,
                streams: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        if len(streams) != len(self.in_channels):
            raise ValueError(f'HRNetV2Neck was built for '
                             f'{len(self.in_channels)} streams, got '
                             f'{len(streams)}')
        if self.mode == 'v1':
            return (streams[0], )
        x = resize_concat(streams, self.align_corners)
        if self.reduction_conv is not None:
            x = self._run(self.reduction_conv, x)
        if self.mode == 'v2':
            return (x, )
        levels = [x] + [
            self.pooling(x, kernel_size=2**i, stride=2**i)
            for i in range(1, self.num_outs)
        ]
        return tuple(
            self._run(conv, y) for conv, y in zip(self.fpn_convs, levels))
