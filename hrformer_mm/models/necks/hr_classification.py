"""The classification head of the high-resolution networks, as a neck.

HRNetV2's Figure 5 (Wang et al., TPAMI 2020): each stream goes through one
bottleneck that widens it to 128 / 256 / 512 / 1024 channels (the
"increment" modules); then, from the highest-resolution stream down, the
running sum is downsampled by a stride-2 3x3 convolution and added to the
next stream's increment; a 1x1 convolution to 2048 channels, global average
pooling.  The linear classifier is the host's (mmpretrain's
``LinearClsHead``), so an mmpretrain ``ImageClassifier`` is
``backbone -> HRClassificationNeck -> LinearClsHead``.

The two transformer families build it differently, and ``depthwise`` picks
which:

* HRFormer (reference ``cls/models/hrt.py``, ``_make_head``;
  ``depthwise=True``): the bottleneck's 3x3 is depthwise (``BottleneckDWP``)
  and the downsampling is depthwise 3x3 stride 2 + BN + 1x1 + BN + ReLU;
* HRViT (public ``models/hrvit.py``, ``HRViTClassifier``;
  ``depthwise=False``): a plain bottleneck and a full 3x3 stride-2 conv +
  BN + ReLU, and dropout (``head_drop``, 0.1 in its recipe) before the
  classifier.

Both references give the downsampling and final convolutions a bias in
front of their BatchNorm; kept, so that their checkpoints load unchanged
and parameter counts are theirs.  Sub-module names are the references'
(``incre_modules``, ``downsamp_modules``, ``final_layer``).
"""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule

from hrformer_mm.registry import MODELS
from ..layers import Bottleneck, DepthwiseBottleneck, make_res_layer

__all__ = ['HRClassificationNeck']


@MODELS.register_module()
class HRClassificationNeck(BaseModule):
    """Increment bottlenecks, downsample-and-sum, 1x1 conv, global pool.

    Args:
        in_channels: widths of the backbone's streams, highest resolution
            first.
        head_channels: bottleneck widths of the increment modules (their
            outputs are 4x these: 128 / 256 / 512 / 1024 by default).
        out_channels: width of the final 1x1 convolution (the pooled
            feature the classifier sees).
        depthwise: HRFormer's depthwise form (True) or HRViT's (False).
        dropout: dropout on the pooled feature (HRViT's ``head_drop``).
        conv_cfg, norm_cfg: the convolutions' and norms' configs.
        with_cp: gradient checkpointing in the increment bottlenecks.

    Returns a 1-tuple of the pooled (N, ``out_channels``) feature, as
    mmpretrain's heads expect from a neck.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 head_channels: Sequence[int] = (32, 64, 128, 256),
                 out_channels: int = 2048,
                 depthwise: bool = True,
                 dropout: float = 0.,
                 conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN'),
                 with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != len(head_channels):
            raise ValueError(f'in_channels {tuple(in_channels)} and '
                             f'head_channels {tuple(head_channels)} must '
                             f'have one entry per stream')
        self.in_channels = tuple(in_channels)
        self.depthwise = depthwise
        block = DepthwiseBottleneck if depthwise else Bottleneck
        widths = [c * block.expansion for c in head_channels]
        self.incre_modules = nn.ModuleList(
            make_res_layer(block, c_in, c, 1, conv_cfg=conv_cfg,
                           norm_cfg=norm_cfg, with_cp=with_cp)
            for c_in, c in zip(in_channels, head_channels))

        def norm(c):
            return build_norm_layer(norm_cfg, c)[1]

        downsamp = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            if depthwise:
                layers = [
                    build_conv_layer(conv_cfg, c_in, c_in, 3, stride=2,
                                     padding=1, groups=c_in, bias=True),
                    norm(c_in),
                    build_conv_layer(conv_cfg, c_in, c_out, 1, bias=True),
                    norm(c_out)
                ]
            else:
                layers = [
                    build_conv_layer(conv_cfg, c_in, c_out, 3, stride=2,
                                     padding=1, bias=True),
                    norm(c_out)
                ]
            downsamp.append(nn.Sequential(*layers, nn.ReLU(inplace=True)))
        self.downsamp_modules = nn.ModuleList(downsamp)
        self.final_layer = nn.Sequential(
            build_conv_layer(conv_cfg, widths[-1], out_channels, 1,
                             bias=True), norm(out_channels),
            nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.out_channels = out_channels

    def forward(self, inputs: Sequence[torch.Tensor]
                ) -> Tuple[torch.Tensor]:
        if len(inputs) != len(self.incre_modules):
            raise ValueError(
                f'{type(self).__name__} was built for '
                f'{len(self.incre_modules)} streams, got {len(inputs)}; '
                f'the backbone must return every stream (out_indices '
                f'(0, 1, 2, 3))')
        y = self.incre_modules[0](inputs[0])
        for incre, down, x in zip(self.incre_modules[1:],
                                  self.downsamp_modules, inputs[1:]):
            y = incre(x) + down(y)
        y = self.pool(self.final_layer(y)).flatten(1)
        return (self.dropout(y), )
