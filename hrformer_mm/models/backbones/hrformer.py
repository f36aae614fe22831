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
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmengine.model.weight_init import trunc_normal_

from hrformer_mm.registry import MODELS
from ..layers import (ConvFFN, DropPath, LocalWindowAttention,
                      WindowMultiHeadAttention, complete_upsample_cfg,
                      drop_path_rates)
from .base import HRNetLayoutBackbone, branch_block_counts, rename_keys
from .hrformer_weights import hrformer_checkpoint_filter
from .host_form import (is_pretrained_init, options_from_extra,
                        pretrained_init_cfg, split_arch_and_extra,
                        zero_init_residual_norms)

__all__ = ['HRFormerBlock', 'HRFormerBranch', 'HRFormer']


class HRFormerBlock(nn.Module):
    """``x + DropPath(LWA(LN(x)))`` then ``x + DropPath(ConvFFN(LN(x)))``.

    Takes and returns channels-last maps (B, H, W, C): layer norm, attention
    and the FFN's convolutions all want that layout in memory, so blocks
    pass it to each other without a copy and :class:`HRFormerBranch`
    converts once on the way in and once on the way out (measured, see
    docs/benchmarks.md).  Every block of one stream then sees inputs of one
    shape and one layout, which is what lets the compiled blocks of
    ``compile_cfg`` share their code.

    ``channels`` is the width of the block's stream, the ``embed_dims`` of
    its attention; the arch keys ``window_sizes`` and ``mlp_ratios`` give
    one ``window_size`` and ``mlp_ratio`` per stream.
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
        self.drop_path = DropPath(drop_path)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.ffn(self.norm2(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)


class HRFormerBranch(nn.Sequential):
    """The blocks of one stream in one module: (B, C, H, W) in and out.

    The blocks run on channels-last maps; the branch hands the fusion a
    plain NCHW tensor, so the fusion convolutions see mmpose's memory
    layout, whose rounding the parity tests pin to 1e-5 (channels-last
    fusion convolutions drift past it on HRFormer-B).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = super().forward(x.permute(0, 2, 3, 1).contiguous())
        return x.permute(0, 3, 1, 2).contiguous()


@MODELS.register_module()
class HRFormer(HRNetLayoutBackbone):
    """HRFormer backbone.

    Args:
        arch: ``'tiny'``, ``'small'`` (the default), ``'base'`` or a dict
            with the keys of :attr:`arch_zoo` entries and of
            :attr:`arch_defaults` (``num_blocks``: transformer blocks per
            branch per module, one number, one per stage 2-4, or per stage
            one per branch).
        in_channels: input image channels.
        window_sizes: overrides the arch's ``window_sizes``: one size for
            every stream or one per stream (the paper's large-window
            segmentation models use 13 or 15).  ``window_size`` is its
            deprecated spelling (it warns).
        drop_path_rate: stochastic depth, rising linearly over all
            transformer blocks of stages 2-4.
        with_rpe: add the relative position bias (off only to reproduce the
            reference pose release).
        with_pad_mask: mask padded tokens in window attention.  Off by
            default because both reference releases (the authors' and
            mmpose's) let padded tokens into the softmax, and their
            checkpoints were trained that way; HRViT's reference masks, so
            there the default is on.
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
        compile_cfg: None (eager), or ``torch.compile`` options (``{}``:
            the defaults) for :meth:`compile_blocks`, which compiles each
            transformer block on its own.
        zero_init_residual: start stage 1's bottlenecks as the identity
            (their last BatchNorm zeroed) unless ``init_cfg`` loads a
            checkpoint, as mmpose's flag does.
        pretrained: deprecated (the hosts' older form): a checkpoint path,
            short for ``init_cfg=dict(type='Pretrained', checkpoint=...)``;
            mmseg's segmentors pass their own ``pretrained`` here.

    mmpose's form, so that mmpose's HRFormer configs switch to this class
    by their ``type`` alone, with the same outputs on the same checkpoint
    (the arguments up to ``init_cfg`` are also mmpose's positions, with
    ``extra`` first):

    Args:
        extra: mmpose's ``dict(stage1=..., stage2=..., stage3=...,
            stage4=..., drop_path_rate=..., with_rpe=..., upsample=...)``, in
            place of ``arch``, ``window_sizes``, ``drop_path_rate``,
            ``with_rpe``, ``with_pad_mask``, ``upsample_cfg`` and
            ``out_indices``, which must then stay unset.  It means what it
            means to mmpose whatever the default scope (only mmpose has an
            HRFormer): stage 1 of ``'BOTTLENECK'`` blocks, stages 2-4 of
            ``'HRFORMERBLOCK'``; one output unless
            ``extra['stage4']['multiscale_output']``; ``upsample`` (default
            bilinear, align_corners=False) as ``upsample_cfg``.  What this
            class does not build is refused with the key named: other block
            types (as mmpose does), a stream whose width, heads, window or
            MLP ratio change between stages, a branch with more blocks than
            branch 0 (mmpose fails there), and ``with_pad_mask=True``
            (mmpose masks only when both axes are padded, a bug this class
            does not copy; ask for ``with_pad_mask`` in our form).
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
    # branch per module; paper Table 1 (T/S/B).  Per-stream keys are
    # plural, as HRViT's and as the hosts' extra= stages spell them.
    arch_zoo: Dict[str, dict] = {
        'tiny': dict(channels=(18, 36, 72, 144), num_heads=(1, 2, 4, 8),
                     num_modules=(1, 3, 2)),
        'small': dict(channels=(32, 64, 128, 256), num_heads=(1, 2, 4, 8),
                      num_modules=(1, 4, 2)),
        'base': dict(channels=(78, 156, 312, 624), num_heads=(2, 4, 8, 16),
                     num_modules=(1, 4, 2)),
    }
    arch_defaults = dict(num_blocks=2, mlp_ratios=4, window_sizes=7,
                         stage1_blocks=2, stage1_channels=64)
    renamed_arch_keys = dict(window_size='window_sizes',
                             mlp_ratio='mlp_ratios')

    compile_units = (HRFormerBlock, )
    #: reads other releases' checkpoints at load time (hrformer_weights.py)
    checkpoint_filter = staticmethod(hrformer_checkpoint_filter)

    def __init__(self,
                 arch: Union[str, dict, None] = None,
                 in_channels: int = 3,
                 conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 transformer_norm_cfg: dict = dict(type='LN', eps=1e-6),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = False,
                 frozen_stages: int = -1,
                 init_cfg: Union[dict, List[dict]] = None,
                 *,
                 window_sizes: Union[int, Sequence[int], None] = None,
                 drop_path_rate: float = 0.,
                 with_rpe: bool = True,
                 with_pad_mask: bool = False,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 upsample_cfg: dict = POSE_RELEASE_UPSAMPLE,
                 compile_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 extra: Optional[dict] = None,
                 window_size: Optional[int] = None):
        init_cfg = pretrained_init_cfg('HRFormer', pretrained, init_cfg,
                                       init_cfg_is_default=False)
        if window_size is not None:
            # the spelling of the released large-window seg configs
            window_sizes = rename_keys(
                dict(window_size=window_size, **(
                    {} if window_sizes is None else
                    dict(window_sizes=window_sizes))),
                dict(window_size='window_sizes'),
                'HRFormer argument')['window_sizes']
        arch, extra = split_arch_and_extra('HRFormer', arch, extra)
        if extra is not None:
            host_form = options_from_extra(
                HRFormer, arch, extra, None,
                dict(window_sizes=window_sizes, drop_path_rate=drop_path_rate,
                     with_rpe=with_rpe, with_pad_mask=with_pad_mask,
                     upsample_cfg=upsample_cfg, out_indices=out_indices))
            arch, out_indices = host_form['arch'], host_form['out_indices']
            drop_path_rate = host_form['drop_path_rate']
            with_rpe = host_form['with_rpe']
            with_pad_mask = host_form['with_pad_mask']
            upsample_cfg = host_form['upsample_cfg']
        arch = 'small' if arch is None else arch
        super().__init__(in_channels, out_indices, frozen_stages, norm_eval,
                         init_cfg)
        self.zero_init_residual = zero_init_residual
        upsample_cfg = complete_upsample_cfg(upsample_cfg,
                                             self.POSE_RELEASE_UPSAMPLE)
        #: the fusion's upsampling, complete
        self.upsample_cfg = upsample_cfg
        self.arch = arch = self._resolve_arch(arch, window_sizes)
        # Stage 1: bottlenecks (2, where HRNet uses 4).
        pre_channels = self._build_stem_and_stage1(
            arch['stage1_channels'], arch['stage1_blocks'], conv_cfg,
            norm_cfg)

        # drop-path rates rise over the blocks of stages 2-4 in order: one
        # list of block rates per module, as long as the module's deepest
        # branch (mmpose: branch 0's, which its form keeps the deepest);
        # first_module[s] indexes the first module of stage s + 2
        num_modules = arch['num_modules']
        num_blocks = branch_block_counts(arch['num_blocks'])
        module_rates = drop_path_rates(drop_path_rate, [
            max(counts) for counts, n in zip(num_blocks, num_modules)
            for _ in range(n)
        ])
        first_module = [sum(num_modules[:stage]) for stage in range(3)]

        def transformer_blocks(stage: int, module: int,
                               channels: List[int]) -> List[nn.Module]:
            return [
                HRFormerBranch(*[
                    HRFormerBlock(
                        channels[branch], arch['num_heads'][branch],
                        arch['window_sizes'][branch],
                        arch['mlp_ratios'][branch], rate,
                        with_rpe=with_rpe, with_pad_mask=with_pad_mask,
                        norm_cfg=norm_cfg,
                        transformer_norm_cfg=transformer_norm_cfg,
                        with_cp=with_cp)
                    for rate in module_rates[first_module[stage - 2] + module]
                    [:num_blocks[stage - 2][branch]]
                ]) for branch in range(stage)
            ]

        self._build_stages(arch['channels'], arch['num_modules'],
                           pre_channels, transformer_blocks, conv_cfg,
                           norm_cfg, downsample='stepwise_separable',
                           upsample_cfg=upsample_cfg)
        self._freeze_stages()
        self._apply_compile_cfg(compile_cfg)

    @classmethod
    def _resolve_arch(cls, arch: Union[str, dict],
                      window_sizes: Union[int, Sequence[int], None] = None
                      ) -> dict:
        arch = cls._arch_from_zoo(arch,
                                  ('channels', 'num_heads', 'num_modules'))
        if window_sizes is not None:
            arch['window_sizes'] = window_sizes
        for key in ('window_sizes', 'mlp_ratios'):
            if not isinstance(arch[key], (list, tuple)):
                arch[key] = (arch[key], ) * 4
        for key in ('channels', 'num_heads', 'window_sizes', 'mlp_ratios'):
            if len(arch[key]) != 4:
                raise ValueError(f'arch["{key}"] needs 4 values (one per '
                                 f'stream), got {arch[key]}')
        if len(arch['num_modules']) != 3:
            raise ValueError('arch["num_modules"] needs 3 values (stages 2-4)')
        branch_block_counts(arch['num_blocks'])
        return arch

    def init_weights(self) -> None:
        if self.init_cfg is not None:
            super().init_weights()
        else:
            self._default_init(conv_init=True)
            for m in self.modules():
                if isinstance(m, WindowMultiHeadAttention) and m.with_rpe:
                    trunc_normal_(m.relative_position_bias_table, std=.02)
        # mmpose's rule: a checkpoint overrides the zeroing
        if self.zero_init_residual and not is_pretrained_init(self.init_cfg):
            zero_init_residual_norms(self)

    def no_weight_decay(self) -> List[str]:
        """Parameter names that must not decay: the relative bias tables."""
        return [n for n, _ in self.named_parameters()
                if n.endswith('relative_position_bias_table')]
