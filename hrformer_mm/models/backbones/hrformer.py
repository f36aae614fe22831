"""HRFormer: High-Resolution Transformer for Dense Prediction.

Yuan et al., NeurIPS 2021, https://arxiv.org/abs/2110.09408

HRNet's parallel multi-resolution streams and repeated fusion, with every
branch built from transformer blocks: local-window self-attention (relative
position bias) followed by a depthwise-conv FFN.

Differences from the reference and mmpose implementations, all opt-in or
numerically neutral:

* fusion upsamples to the target stream's size, so inputs that are not a
  multiple of 32 work (identical output otherwise);
* ``upsample_cfg`` chooses between the two reference releases' fusions:
  the pose release (and mmpose) upsample bilinearly, the segmentation
  release, behind every published HRFormer mIoU, by nearest-neighbour with
  a fixed factor followed by an align_corners=True resize
  (:attr:`HRFormer.SEG_RELEASE_UPSAMPLE`);
* ``with_pad_mask`` masks padded tokens whenever either axis is padded
  (mmpose's flag only acts when both are);
* ``with_rpe=False`` reproduces the reference *pose* release, whose
  relative position bias was computed but never added;
* attention runs through ``F.scaled_dot_product_attention``.

State-dict keys match mmpose's ``HRFormer``, except that the derived
``relative_position_index`` buffers are not saved.
"""
from typing import Dict, List, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmcv.cnn.utils import fuse_conv_bn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch.nn.modules.batchnorm import _BatchNorm

from hrformer_mm.registry import MODELS
from ..layers import (Bottleneck, ConvFFN, HighResolutionModule,
                      LocalWindowAttention, MultiResolutionFusion,
                      WindowMultiHeadAttention, apply_transition,
                      make_res_layer, make_transition)

__all__ = ['HRFormerBlock', 'HRFormerBranch', 'HRFormer']


class HRFormerBlock(nn.Module):
    """``x + DropPath(LWA(LN(x)))`` then ``x + DropPath(ConvFFN(LN(x)))``.

    Takes and returns (B, C, H, W).
    """

    def __init__(self,
                 channels: int,
                 num_heads: int,
                 window_size: int = 7,
                 mlp_ratio: float = 4.,
                 drop_path: float = 0.,
                 with_rpe: bool = True,
                 with_pad_mask: bool = False,
                 norm_cfg: dict = dict(type='BN'),
                 transformer_norm_cfg: dict = dict(type='LN', eps=1e-6),
                 act_cfg: dict = dict(type='GELU'),
                 with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
        self.norm1 = build_norm_layer(transformer_norm_cfg, channels)[1]
        self.attn = LocalWindowAttention(
            channels, num_heads, window_size, with_rpe=with_rpe,
            with_pad_mask=with_pad_mask)
        self.norm2 = build_norm_layer(transformer_norm_cfg, channels)[1]
        self.ffn = ConvFFN(channels, int(channels * mlp_ratio), channels,
                           norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else \
            nn.Identity()

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        # Channels-last throughout: layer norm, attention and the FFN's
        # convolutions all want (B, H, W, C) in memory, and the result, a
        # channels_last (B, C, H, W), enters the next block without a copy
        # (one copy per branch instead of two per block; measured, see
        # docs/benchmarks.md).
        x = x.permute(0, 2, 3, 1).contiguous()
        x = x + self.drop_path(self.attn(self.norm1(x)))
        x = x + self.drop_path(self.ffn(self.norm2(x)))
        return x.permute(0, 3, 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)


class HRFormerBranch(nn.Sequential):
    """The blocks of one stream in one module.

    Blocks pass channels-last maps to each other; the branch hands the
    fusion a plain NCHW tensor, so the fusion convolutions see mmpose's
    memory layout, whose rounding the parity tests pin to 1e-5
    (channels-last fusion convolutions drift past it on HRFormer-B).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).contiguous()


@MODELS.register_module()
class HRFormer(BaseModule):
    """HRFormer backbone.

    Args:
        arch: ``'tiny'``, ``'small'``, ``'base'`` or a dict with the keys of
            :attr:`arch_zoo` entries.
        in_channels: input image channels.
        window_size: overrides the arch's window size in every branch (the
            paper's large-window segmentation models use 13 or 15).
        drop_path_rate: stochastic depth, rising linearly over all
            transformer blocks of stages 2-4.
        with_rpe: add the relative position bias (off only to reproduce the
            reference pose release).
        with_pad_mask: mask padded tokens in window attention.
        out_indices: streams to return (0 = 1/4 resolution).  With ``(0,)``
            the last module only fuses into stream 0, as in mmpose's pose
            models.
        frozen_stages: -1 freezes nothing, 0 the stem, ``n`` also stage
            1..n (with their transitions).
        norm_eval: keep BatchNorm statistics frozen in training.
        with_cp: gradient checkpointing per transformer block.
        upsample_cfg: how the fusion upsamples lower streams: ``mode``
            ('bilinear' | 'nearest'), ``by_factor`` (a fixed 2**k factor
            first, then a resize to the target size if they differ) and
            ``align_corners``.  The default is the pose release's and
            mmpose's; :attr:`SEG_RELEASE_UPSAMPLE` the segmentation
            release's.
    """

    #: Fusion upsampling of the reference pose release and mmpose.
    POSE_RELEASE_UPSAMPLE = dict(mode='bilinear', by_factor=False,
                                 align_corners=False)
    #: Fusion upsampling of the reference segmentation release
    #: (``hrt_backbone.py``: ``nn.Upsample(scale_factor=2**(j-i),
    #: mode='nearest')``, then a bilinear align_corners=True resize).
    SEG_RELEASE_UPSAMPLE = dict(mode='nearest', by_factor=True,
                                align_corners=True)

    # Channels and heads per branch; modules in stages 2/3/4; blocks per
    # branch per module; paper Table 1 (T/S/B).
    arch_zoo: Dict[str, dict] = {
        'tiny': dict(channels=(18, 36, 72, 144), num_heads=(1, 2, 4, 8),
                     num_modules=(1, 3, 2)),
        'small': dict(channels=(32, 64, 128, 256), num_heads=(1, 2, 4, 8),
                      num_modules=(1, 4, 2)),
        'base': dict(channels=(78, 156, 312, 624), num_heads=(2, 4, 8, 16),
                     num_modules=(1, 4, 2)),
    }
    arch_defaults = dict(num_blocks=2, mlp_ratio=4, window_size=7,
                         stage1_blocks=2, stage1_channels=64)

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 in_channels: int = 3,
                 window_size: int = None,
                 drop_path_rate: float = 0.,
                 with_rpe: bool = True,
                 with_pad_mask: bool = False,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 upsample_cfg: dict = POSE_RELEASE_UPSAMPLE,
                 conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 transformer_norm_cfg: dict = dict(type='LN', eps=1e-6),
                 init_cfg: Union[dict, List[dict]] = None):
        super().__init__(init_cfg=init_cfg)
        unknown = set(upsample_cfg) - set(self.POSE_RELEASE_UPSAMPLE)
        if unknown:
            raise KeyError(f'upsample_cfg: unknown keys {sorted(unknown)}; '
                           f'known: {sorted(self.POSE_RELEASE_UPSAMPLE)}')
        upsample = {**self.POSE_RELEASE_UPSAMPLE, **upsample_cfg}
        self.arch = self._resolve_arch(arch, window_size)
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(4) for i in out_indices):
            raise ValueError(f'out_indices must be a non-empty subset of '
                             f'0..3, got {out_indices}')
        if frozen_stages not in range(-1, 5):
            raise ValueError(f'frozen_stages must be in -1..4, got '
                             f'{frozen_stages}')
        self.in_channels = in_channels
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        a = self.arch

        # Stem: two 3x3 stride-2 convs to 1/4 resolution.
        self.conv1 = build_conv_layer(conv_cfg, in_channels, 64, 3, stride=2,
                                      padding=1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, 64)[1]
        self.conv2 = build_conv_layer(conv_cfg, 64, 64, 3, stride=2,
                                      padding=1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, 64)[1]
        self.relu = nn.ReLU(inplace=True)

        # Stage 1: bottlenecks (2, where HRNet uses 4).
        self.layer1 = make_res_layer(Bottleneck, 64, a['stage1_channels'],
                                     a['stage1_blocks'], conv_cfg=conv_cfg,
                                     norm_cfg=norm_cfg)
        pre_channels = [a['stage1_channels'] * Bottleneck.expansion]

        depths = [n * a['num_blocks'] for n in a['num_modules']]
        dpr = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        block_idx = 0
        for stage, num_modules in enumerate(a['num_modules'], start=2):
            num_branches = stage
            channels = list(a['channels'][:num_branches])
            self.add_module(f'transition{stage - 1}',
                            make_transition(pre_channels, channels, conv_cfg,
                                            norm_cfg))
            modules = []
            for m in range(num_modules):
                rates = dpr[block_idx:block_idx + a['num_blocks']]
                block_idx += a['num_blocks']
                branches = [
                    HRFormerBranch(*[
                        HRFormerBlock(
                            channels[b], a['num_heads'][b],
                            a['window_size'][b], a['mlp_ratio'][b], rate,
                            with_rpe=with_rpe, with_pad_mask=with_pad_mask,
                            norm_cfg=norm_cfg,
                            transformer_norm_cfg=transformer_norm_cfg,
                            with_cp=with_cp) for rate in rates
                    ]) for b in range(num_branches)
                ]
                last = stage == 4 and m == num_modules - 1
                num_outputs = max(out_indices) + 1 if last else num_branches
                fuse = MultiResolutionFusion(
                    channels, num_outputs, depthwise=True,
                    upsample_mode=upsample['mode'],
                    upsample_by_factor=upsample['by_factor'],
                    align_corners=upsample['align_corners'],
                    conv_cfg=conv_cfg, norm_cfg=norm_cfg)
                modules.append(HighResolutionModule(branches, fuse))
            self.add_module(f'stage{stage}', nn.Sequential(*modules))
            pre_channels = channels
        self.out_channels = tuple(a['channels'][i] for i in out_indices)
        self._freeze_stages()

    @classmethod
    def _resolve_arch(cls, arch: Union[str, dict],
                      window_size: int = None) -> dict:
        if isinstance(arch, str):
            if arch not in cls.arch_zoo:
                raise KeyError(f'unknown HRFormer arch "{arch}"; choose from '
                               f'{sorted(cls.arch_zoo)} or pass a dict')
            arch = cls.arch_zoo[arch]
        missing = {'channels', 'num_heads', 'num_modules'} - set(arch)
        if missing:
            raise KeyError(f'HRFormer arch dict lacks {sorted(missing)}')
        a = {**cls.arch_defaults, **arch}
        if window_size is not None:
            a['window_size'] = window_size
        for key in ('window_size', 'mlp_ratio'):
            if not isinstance(a[key], (list, tuple)):
                a[key] = (a[key], ) * 4
        for key in ('channels', 'num_heads', 'window_size', 'mlp_ratio'):
            if len(a[key]) != 4:
                raise ValueError(f'arch["{key}"] needs 4 values (one per '
                                 f'stream), got {a[key]}')
        if len(a['num_modules']) != 3:
            raise ValueError('arch["num_modules"] needs 3 values (stages 2-4)')
        return a

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 4:
            raise ValueError(f'HRFormer expects a (N, C, H, W) batch, got a '
                             f'tensor of shape {tuple(x.shape)}')
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'HRFormer was built for {self.in_channels}-channel input but '
                f'got {x.shape[1]} channels (shape {tuple(x.shape)}); convert '
                f'the images (e.g. RGBA -> RGB) or set in_channels')

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        self._check_input(x)
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        features = [self.layer1(x)]
        for stage in (2, 3, 4):
            features = apply_transition(
                getattr(self, f'transition{stage - 1}'), features)
            features = getattr(self, f'stage{stage}')(features)
        return tuple(features[i] for i in self.out_indices)

    def init_weights(self) -> None:
        if self.init_cfg is not None:
            super().init_weights()
            return
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (_BatchNorm, nn.GroupNorm, nn.LayerNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, WindowMultiHeadAttention) and m.with_rpe:
                trunc_normal_(m.relative_position_bias_table, std=.02)

    def no_weight_decay(self) -> List[str]:
        """Parameter names that must not decay: the relative bias tables."""
        return [n for n, _ in self.named_parameters()
                if n.endswith('relative_position_bias_table')]

    def _frozen_modules(self) -> List[nn.Module]:
        if self.frozen_stages < 0:
            return []
        modules = [self.conv1, self.bn1, self.conv2, self.bn2]
        for i in range(1, self.frozen_stages + 1):
            modules.append(self.layer1 if i == 1 else
                           getattr(self, f'stage{i}'))
            if i < 4:
                modules.append(getattr(self, f'transition{i}'))
        return modules

    def _freeze_stages(self) -> None:
        for m in self._frozen_modules():
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def switch_to_deploy(self) -> 'HRFormer':
        """Fold every BatchNorm into the convolution before it (stem,
        stage 1, transitions, fusion, FFN) for inference; the BN layers
        become ``nn.Identity``.  Outputs equal the eval-mode model's up to
        fp32 rounding.  One way: a deployed model cannot be trained."""
        self.eval()
        fuse_conv_bn(self)
        left = [n for n, m in self.named_modules()
                if isinstance(m, _BatchNorm)]
        if left:  # a BN whose conv is not its preceding sibling
            raise RuntimeError(f'BatchNorm layers not folded: {left}')
        self.deploy = True
        return self

    fuse = switch_to_deploy

    def train(self, mode: bool = True) -> 'HRFormer':
        if mode and getattr(self, 'deploy', False):
            raise RuntimeError('this HRFormer was switched to deploy mode '
                               '(BatchNorm folded); build a new one to train')
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
