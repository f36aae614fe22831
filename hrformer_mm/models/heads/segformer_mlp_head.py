"""The all-MLP decode head of SegFormer as HRViT uses it."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize

from hrformer_mm.registry import MODELS

__all__ = ['SegFormerMLPHead']


@MODELS.register_module()
class SegFormerMLPHead(BaseDecodeHead):
    """SegFormer's all-MLP head (Xie et al., NeurIPS 2021) in HRViT's form.

    Each input stream is projected by a plain linear layer (a 1x1 conv with
    bias; no norm, no activation), resized to the first stream's size,
    concatenated, fused by a 1x1 conv + norm + activation, then classified
    (with ``dropout_ratio`` dropout).  mmseg 1.x's ``SegformerHead`` puts
    BN + ReLU after each projection, which is a different head; the HRViT
    release builds this one (``mlp_norm=False, mlp_act=False``).  Key
    names are the release's (``convs.{i}.conv``, ``fusion_conv``), so its
    segmentation checkpoints load unchanged.
    """

    def __init__(self, interpolate_mode: str = 'bilinear', **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        self.interpolate_mode = interpolate_mode
        if len(self.in_channels) != len(self.in_index):
            raise ValueError('in_channels and in_index need one entry per '
                             'input stream')
        self.convs = nn.ModuleList(
            ConvModule(c, self.channels, 1, conv_cfg=self.conv_cfg,
                       norm_cfg=None, act_cfg=None)
            for c in self.in_channels)
        self.fusion_conv = ConvModule(
            self.channels * len(self.in_channels), self.channels, 1,
            conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        inputs: List[torch.Tensor] = self._transform_inputs(inputs)
        size = inputs[0].shape[2:]
        outs = [
            resize(conv(x), size=size, mode=self.interpolate_mode,
                   align_corners=self.align_corners)
            for conv, x in zip(self.convs, inputs)
        ]
        return self.cls_seg(self.fusion_conv(torch.cat(outs, dim=1)))
