"""HRPVT's High-Resolution Pyramid Module (HRPM), as a neck.

HRPVT (pose of medium and small people; docs/hrpvt.md): a PVT v2 backbone
for long-range context, an HRPM that puts convolutional locality and scale
invariance back into a high-resolution representation, SimCC keypoints.
No code was published; this file is the project's reading of the paper,
documented in docs/hrpvt.md.

Why a neck, not a backbone: PVT v2 is mmpose's
``PyramidVisionTransformerV2`` unchanged (it is the paper's backbone, and
its released b0..b5 checkpoints load into it), so the HRPM acts on its four
stage outputs instead of forking its forward.  Consequently "layer-wise"
insertion is read at the granularity of the HRPM's own pyramid layers, not
of the transformer's encoder layers (see ``insertion``).

Data flow (``HRPMNeck``)::

    PVT v2 stages 1/4, 1/8, 1/16, 1/32 (64, 128, 320, 512 ch for b2)
      -> HRNetV2Neck mode='v2': resize to 1/4, concat, 1x1 conv+BN+ReLU -> C
      -> HRPM ('stage': one module, parallel branches;
               'layer': one residual unit per pyramid layer, in series)
      -> (x, )   one C-channel map at 1/4 of the input
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_activation_layer
from mmengine.model import BaseModule

from hrformer_mm.registry import MODELS

from .hrnetv2 import HRNetV2Neck

__all__ = ['HighResolutionPyramidModule', 'HRPMNeck']


class HighResolutionPyramidModule(BaseModule):
    """A pyramid of depthwise 3x3 convolutions with growing dilation, fused
    by a 1x1 conv, added back to its input.

    ``out = ReLU(x + BN(Conv1x1(concat_i ReLU(BN(DWConv3x3_{d_i}(x))))))``

    Depthwise 3x3 kernels give locality at the cost of ``9 C`` weights per
    branch; the dilations ``d_i`` give each branch a different receptive
    field on the same high-resolution grid (a scale pyramid without
    resampling, so keypoint positions are never quantised further).

    Args:
        channels: input and output width.
        dilations: one branch per dilation (the pyramid's layers).
    """

    def __init__(self,
                 channels: int,
                 dilations: Sequence[int] = (1, 2, 4, 8),
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if not dilations:
            raise ValueError('dilations must name at least one branch')
        self.dilations = tuple(dilations)
        self.branches = nn.ModuleList([
            ConvModule(channels, channels, 3, padding=d, dilation=d,
                       groups=channels, norm_cfg=norm_cfg, act_cfg=act_cfg)
            for d in self.dilations
        ])
        self.fuse = ConvModule(channels * len(self.dilations), channels, 1,
                               norm_cfg=norm_cfg, act_cfg=None)
        self.act = build_activation_layer(act_cfg) if act_cfg else \
            nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fuse(torch.cat([b(x) for b in self.branches], dim=1))
        return self.act(x + y)


@MODELS.register_module()
class HRPMNeck(BaseModule):
    """PVT v2 stages -> HRNetV2 (V2) high-resolution map -> HRPM.

    Args:
        in_channels: the backbone's stage widths, highest resolution first.
        out_channels: width ``C`` of the high-resolution representation.
        dilations: the pyramid's layers, one dilation each.
        insertion: where the pyramid's layers sit.

            * ``'stage'``: one :class:`HighResolutionPyramidModule` with all
              dilations as parallel branches and one residual (the pyramid
              inserted once, after the stage that forms the representation).
            * ``'layer'``: one unit per dilation, each a single-branch
              :class:`HighResolutionPyramidModule` with its own 1x1 fuse and
              residual, applied in series, smallest dilation first (the
              pyramid inserted layer by layer).  Same branches, ``C^2``
              more 1x1 weights per extra layer; receptive fields compound.
        norm_cfg, act_cfg: of every conv (the V2 1x1 included).
    """

    INSERTIONS = ('stage', 'layer')

    def __init__(self,
                 in_channels: Sequence[int] = (64, 128, 320, 512),
                 out_channels: int = 128,
                 dilations: Sequence[int] = (1, 2, 4, 8),
                 insertion: str = 'stage',
                 align_corners: bool = False,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg=dict(type='Kaiming', layer='Conv2d')):
        super().__init__(init_cfg=init_cfg)
        if insertion not in self.INSERTIONS:
            raise ValueError(f'insertion must be one of {self.INSERTIONS}, '
                             f'got {insertion!r}')
        self.insertion = insertion
        self.out_channels = out_channels
        self.representation = HRNetV2Neck(
            in_channels, mode='v2', out_channels=out_channels,
            align_corners=align_corners, norm_cfg=norm_cfg, act_cfg=act_cfg,
            init_cfg=None)
        groups = [dilations] if insertion == 'stage' else \
            [(d, ) for d in dilations]
        self.hrpm = nn.Sequential(*[
            HighResolutionPyramidModule(out_channels, g, norm_cfg, act_cfg)
            for g in groups
        ])

    def forward(self, feats: Sequence[torch.Tensor]
                ) -> Tuple[torch.Tensor]:
        x, = self.representation(feats)
        return (self.hrpm(x), )
