"""HRViT: Multi-Scale High-Resolution Vision Transformer.

Gu et al., CVPR 2022, https://arxiv.org/abs/2111.01236

A convolutional stem, then six modules, each a multi-resolution fusion
followed by a stage of parallel transformer branches (1, 2, 3, 3, 4 and 4
branches).  A new, lower-resolution branch is made inside the fusion from
all inputs.  Every branch of every stage starts with an efficient patch
embedding and ends with a LayerNorm; its blocks are

    x = x + DropPath(HRViTAttn(LN(x)) + DES(x))
    x = x + DropPath(MixCFN(LN(x)))

with cross-shaped stripe attention whose key is the value
(:class:`~hrformer_mm.models.layers.CrossShapedStripeAttention`), the
diversity-enhanced shortcut
(:class:`~hrformer_mm.models.layers.DiversityEnhancedShortcut`) and the
mixed-scale conv FFN (:class:`~hrformer_mm.models.layers.MixCFN`).

Numerically identical to the public code (facebookresearch/HRViT,
``models/hrvit.py`` and its segmentation copy) at input sizes that are
multiples of 32; its checkpoints load through
:func:`~hrformer_mm.models.backbones.hrvit_weights.hrvit_checkpoint_filter`
whenever they are loaded.  Deliberate
differences from the public code and its configs:

* any input size: fusion upsamples to the target stream's size, where the
  reference upsamples by a fixed factor and fails unless the input is a
  multiple of 32 (identical output otherwise);
* padded stripe keys are hidden exactly (the reference adds -100 to their
  logits; the same numbers for its zero padding, see ``with_pad_mask``);
* b2's third branch is 240 channels wide everywhere: the public b2
  segmentation configs give the heads ``in_channels`` 192, which does not
  match the backbone they build;
* each UPerNet config builds its own variant: the public b3 UPerNet config
  builds b1 (and uses drop path 0.1);
* with ``out_indices`` not reaching the last branches, the last stage does
  not build the branches nobody reads (they would never get gradients);
* ``with_cp`` checkpoints whole blocks and leaves the BatchNorm momentum
  alone (the reference changes it to 1 - 0.9 ** 0.5 under ``with_cp``).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer

from hrformer_mm.registry import MODELS
from .base import MultiResolutionBackbone
from .hrvit_weights import hrvit_checkpoint_filter
from ..layers import (ConvStem, CrossShapedStripeAttention, DropPath,
                      DiversityEnhancedShortcut, EfficientPatchEmbed, MixCFN,
                      MultiResolutionFusion, drop_path_rates)

__all__ = ['HRViTBlock', 'HRViTBranch', 'HRViTModule', 'HRViT']


class HRViTBlock(nn.Module):
    """``x + DropPath(Attn(LN(x)) + DES(x))`` then
    ``x + DropPath(MixCFN(LN(x)))``, on channels-last maps (B, H, W, C).

    ``channels`` is the width of the block's stream, the ``embed_dims`` of
    its attention; the arch keys ``stripe_widths`` and ``mlp_ratios`` give
    one ``stripe_width`` and ``mlp_ratio`` per stream.
    """

    def __init__(self,
                 channels: int,
                 head_dim: int = 32,
                 stripe_width: int = 7,
                 mlp_ratio: float = 4.,
                 drop_path: float = 0.,
                 with_pad_mask: bool = True,
                 norm_cfg: dict = dict(type='BN'),
                 transformer_norm_cfg: dict = dict(type='LN', eps=1e-5),
                 with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
        self.norm1 = build_norm_layer(transformer_norm_cfg, channels)[1]
        self.attn = CrossShapedStripeAttention(channels, head_dim,
                                               stripe_width, with_pad_mask,
                                               norm_cfg)
        self.des = DiversityEnhancedShortcut(channels)
        self.norm2 = build_norm_layer(transformer_norm_cfg, channels)[1]
        self.ffn = MixCFN(channels, int(channels * mlp_ratio))
        self.drop_path = DropPath(drop_path)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)) + self.des(x))
        return x + self.drop_path(self.ffn(self.norm2(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)


class HRViTBranch(nn.Module):
    """One branch of a stage: patch embedding, blocks, LayerNorm.

    (B, C_in, H, W) -> (B, C, H, W)."""

    def __init__(self, in_channels: int, channels: int,
                 blocks: Sequence[HRViTBlock],
                 transformer_norm_cfg: dict = dict(type='LN', eps=1e-5)):
        super().__init__()
        self.patch_embed = EfficientPatchEmbed(in_channels, channels,
                                               transformer_norm_cfg)
        self.blocks = nn.Sequential(*blocks)
        self.norm = build_norm_layer(transformer_norm_cfg, channels)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.blocks(self.patch_embed(x)))
        return x.permute(0, 3, 1, 2).contiguous()


class HRViTModule(nn.Module):
    """One of HRViT's modules: a fusion (which may create a new branch),
    then parallel branches.  (:attr:`HRViT.stages` holds them, the
    reference's state-dict name.)"""

    def __init__(self, fusion: MultiResolutionFusion,
                 branches: Sequence[HRViTBranch]):
        super().__init__()
        self.fusion = fusion
        self.branches = nn.ModuleList(branches)

    def forward(self, features: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        features = self.fusion(features)
        return [branch(x) for branch, x in zip(self.branches, features)]


@MODELS.register_module()
class HRViT(MultiResolutionBackbone):
    """HRViT backbone.

    Args:
        arch: ``'b1'``, ``'b2'``, ``'b3'`` or a dict with the keys of
            :attr:`arch_zoo` entries (``stripe_widths`` and
            ``stem_channels`` optional).
        in_channels: input image channels.
        drop_path_rate: stochastic depth; rates rise linearly over the sum,
            over the modules, of each module's largest block count (22 for
            b1, 26 for b2 / b3), and block j of every branch of a module
            gets the same rate, as in the reference.
        with_pad_mask: hide padded stripe keys.  On by default because
            the reference masks them (with -100) and its checkpoints were
            trained that way; HRFormer's references do not mask, so there
            the default is off.
        out_indices: streams to return (0 = 1/4 resolution).
        frozen_stages: -1 freezes nothing, 0 the stem, ``n`` also modules
            1..n (fusion and branches).
        norm_eval: keep BatchNorm statistics frozen in training.
        with_cp: gradient checkpointing per transformer block.
        norm_cfg: stem, fusion and attention-output normalisation.
        transformer_norm_cfg: patch-embedding, block and stage-end norms.
        compile_cfg: None (eager), or ``torch.compile`` options (``{}``:
            the defaults) for :meth:`compile_blocks`, which compiles each
            transformer block on its own.
    """

    # Branch widths, head width, MLP ratio per branch, and the blocks per
    # branch of each of the six modules (paper Table 1, public code).
    arch_zoo: Dict[str, dict] = {
        'b1': dict(channels=(32, 64, 128, 256), head_dim=32,
                   mlp_ratios=(4, 4, 4, 4),
                   blocks=((1, ), (1, 1), (1, 1, 6), (1, 1, 6), (1, 1, 6, 2),
                           (1, 1, 2, 2))),
        'b2': dict(channels=(48, 96, 240, 384), head_dim=24,
                   mlp_ratios=(2, 3, 3, 3),
                   blocks=((1, ), (1, 1), (1, 1, 6), (1, 1, 6), (1, 1, 6, 2),
                           (1, 1, 6, 2))),
        'b3': dict(channels=(64, 128, 256, 512), head_dim=32,
                   mlp_ratios=(2, 2, 2, 2),
                   blocks=((1, ), (1, 1), (1, 1, 6), (1, 1, 6), (1, 1, 6, 3),
                           (1, 1, 6, 3))),
    }
    arch_defaults = dict(stripe_widths=(1, 2, 7, 7), stem_channels=64)

    compile_units = (HRViTBlock, )
    #: reads other releases' checkpoints at load time (hrvit_weights.py)
    checkpoint_filter = staticmethod(hrvit_checkpoint_filter)

    def __init__(self,
                 arch: Union[str, dict] = 'b1',
                 in_channels: int = 3,
                 drop_path_rate: float = 0.,
                 with_pad_mask: bool = True,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 transformer_norm_cfg: dict = dict(type='LN', eps=1e-5),
                 compile_cfg: Optional[dict] = None,
                 init_cfg: Union[dict, List[dict]] = None):
        super().__init__(init_cfg=init_cfg)
        self.arch = arch = self._resolve_arch(arch)
        num_modules = len(arch['blocks'])
        self._set_options(in_channels, out_indices, len(arch['channels']),
                          frozen_stages, num_modules, norm_eval)
        out_indices = self.out_indices

        self.stem = ConvStem(in_channels, arch['stem_channels'], bias=True,
                             norm_cfg=norm_cfg)
        # block j of every branch of a module shares the module's rate j
        module_rates = drop_path_rates(
            drop_path_rate, [max(blocks) for blocks in arch['blocks']])
        # widths of the streams entering each module
        stream_channels = [arch['stem_channels']]
        modules = []
        for index, (blocks, rates) in enumerate(zip(arch['blocks'],
                                                    module_rates)):
            channels = arch['channels'][:len(blocks)]
            # the fusion keeps its inputs' widths; a new branch gets its own
            fused = stream_channels + list(
                channels[len(stream_channels):])
            last = index == num_modules - 1
            num_branches = max(out_indices) + 1 if last else len(blocks)
            # module 1's "fusion" is identity + GELU on the stem output
            fusion = MultiResolutionFusion(
                stream_channels, fused[:num_branches], downsample='direct',
                upsample_cfg=dict(mode='nearest'), norm_cfg=norm_cfg,
                act_cfg=dict(type='GELU'), pointwise_bias=True)
            branches = [
                HRViTBranch(fused[branch], channels[branch], [
                    HRViTBlock(channels[branch], arch['head_dim'],
                               arch['stripe_widths'][branch],
                               arch['mlp_ratios'][branch], rates[block],
                               with_pad_mask, norm_cfg, transformer_norm_cfg,
                               with_cp)
                    for block in range(blocks[branch])
                ], transformer_norm_cfg) for branch in range(num_branches)
            ]
            modules.append(HRViTModule(fusion, branches))
            stream_channels = list(channels)
        self.stages = nn.ModuleList(modules)
        self.out_channels = tuple(arch['channels'][i] for i in out_indices)
        self._freeze_stages()
        self._apply_compile_cfg(compile_cfg)

    @classmethod
    def _resolve_arch(cls, arch: Union[str, dict]) -> dict:
        arch = cls._arch_from_zoo(
            arch, ('channels', 'head_dim', 'mlp_ratios', 'blocks'))
        num_branches = len(arch['channels'])
        for key in ('mlp_ratios', 'stripe_widths'):
            if len(arch[key]) != num_branches:
                raise ValueError(f'arch["{key}"] needs {num_branches} values '
                                 f'(one per branch), got {arch[key]}')
        counts = [len(blocks) for blocks in arch['blocks']]
        added = [now - before for before, now in zip([1] + counts, counts)]
        if counts[-1] != num_branches or counts[0] != 1 or \
                any(step not in (0, 1) for step in added):
            raise ValueError(
                f'arch["blocks"] must start with one branch and add at most '
                f'one per module up to {num_branches}; got branch counts '
                f'{counts}')
        return arch

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        self._check_input(x)
        features = [self.stem(x)]
        for stage in self.stages:
            features = stage(features)
        return tuple(features[i] for i in self.out_indices)

    def init_weights(self) -> None:
        if self.init_cfg is not None:
            super().init_weights()
            return
        # as the reference: convs keep PyTorch's default; then the attention
        # output norms back to zero
        self._default_init(conv_init=False)
        for m in self.modules():
            if isinstance(m, CrossShapedStripeAttention):
                m.init_weights()

    def _frozen_modules(self) -> List[nn.Module]:
        if self.frozen_stages < 0:
            return []
        return [self.stem] + list(self.stages[:self.frozen_stages])
