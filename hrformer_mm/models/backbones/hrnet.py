"""HRNet: Deep High-Resolution Representation Learning.

Sun et al., CVPR 2019 (https://arxiv.org/abs/1902.09212) and Wang et al.,
TPAMI 2020 / "High-Resolution Representations for Labeling Pixels and
Regions" (https://arxiv.org/abs/1904.04514).

Four parallel streams at 1/4 .. 1/32 resolution, widths W x (1, 2, 4, 8):
stage 1 is 4 bottlenecks, stages 2 / 3 / 4 are 1 / 4 / 3 modules of 4
BasicBlocks per branch, each module ending in the standard fusion (3x3
stride-2 convs down, 1x1 conv and upsampling up).  How the streams are read
out (V1 / V2 / V2p) is the job of :class:`~hrformer_mm.models.necks.
HRNetV2Neck`, not of the backbone.

Same computation as mmpose's, mmdet's and mmpretrain's ``HRNet``
(``upsample_cfg=dict(mode='nearest')``, the default, as in the pose and
classification releases) and mmseg's ``HRNet`` (``upsample_cfg=
dict(mode='bilinear')``, with ``by_factor=True`` also where the input is
no multiple of 32);
their configs' ``extra=`` form builds it too.  State-dict keys are
theirs, so their checkpoints load unchanged (the hosts' up paths end in a
parameter-free ``Upsample`` at index 2, which we replace by resizing to the
target stream's size, so the indices of the conv and BN still match).
Unlike mmpose's and mmdet's, inputs need not be multiples of 32.  The
arch takes every layout the hosts' form can say (bottleneck or basic
branches in any stage, widths that change between stages, block counts per
branch), so any of their HRNets has an equal here.

The name ``HRNet`` belongs to mmpose and mmseg: configs say
``type='hrformer_mm.HRNet'``.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch.nn as nn

from hrformer_mm.registry import MODELS
from ..layers import BasicBlock, Bottleneck, make_res_layer
from ..layers import complete_upsample_cfg
from .base import HRNetLayoutBackbone, branch_block_counts, warn_renamed
from .hrnet_weights import (hrnet_checkpoint_filter,
                            mmpretrain_classifier_layout)
from .host_form import (changed_options, is_pretrained_init,
                        options_from_extra, pretrained_init_cfg,
                        split_arch_and_extra, zero_init_residual_norms)

__all__ = ['HRNet']


@MODELS.register_module()
class HRNet(HRNetLayoutBackbone):
    """HRNet backbone.

    Args:
        arch: ``'w18'``, ``'w30'``, ``'w32'`` (the default), ``'w40'``,
            ``'w44'``, ``'w48'``, ``'w64'`` (mmpretrain's widths),
            ``'w18-small-v1'``, ``'w18-small-v2'`` (the HRNet ImageNet
            release's small models), ``'w18-small'`` (mmseg's
            HRNetV2-W18-Small, the same as v2) or a dict with
            ``channels`` (4 widths, one per stream; or one tuple of widths
            per stage 2-4, lengths 2 / 3 / 4, where a stream's width
            changes between stages), ``num_modules`` (stages 2-4) and
            optionally ``num_blocks`` (residual blocks per branch per
            module: one number, one per stage, or per stage one per
            branch), ``block`` (``'BASIC'``, the default, or
            ``'BOTTLENECK'``: one name, or one per stage 2-4; a branch of
            bottlenecks is 4x its width wide), ``stage1_blocks``,
            ``stage1_channels``, ``stage1_block`` (``'BOTTLENECK'``, the
            default, or ``'BASIC'``).  These are the hosts' choices.
        in_channels: input image channels.
        upsample_cfg: how the fusion upsamples lower streams (keys as
            HRFormer's; missing ones from :attr:`DEFAULT_UPSAMPLE`):
            ``mode`` ``'nearest'`` (HRNet pose / classification, mmpose,
            mmdet; the default) or ``'bilinear'`` (HRNet segmentation,
            mmseg); ``by_factor``: upsample by the fixed factor 2**k
            first, then resize to the target stream's size where the two
            differ (mmseg's fusion, which differs from a direct resize only
            at sizes that are not multiples of 32); ``align_corners`` of
            the bilinear interpolation (False in every host).
        out_indices: streams to return (0 = 1/4 resolution).  With ``(0,)``
            the last module only fuses into stream 0 (mmpose's
            ``multiscale_output=False``).
        frozen_stages: -1 freezes nothing, 0 the stem, ``n`` also stage
            1..n (with their transitions).
        norm_eval: keep BatchNorm statistics frozen in training (None:
            False, but True in mmdet's form, as mmdet's ``HRNet``).
        with_cp: gradient checkpointing per residual block.
        compile_cfg: None (eager), or ``torch.compile`` options (``{}``:
            the defaults) for :meth:`compile_blocks`, which compiles each
            residual block on its own.
        zero_init_residual: start every residual block as the identity
            (its last BatchNorm zeroed) unless ``init_cfg`` loads a
            checkpoint.
        pretrained: deprecated (the hosts' older form): a checkpoint path,
            short for ``init_cfg=dict(type='Pretrained', checkpoint=...)``;
            mmseg's segmentors pass their own ``pretrained`` here.
        upsample_mode, upsample_by_factor: deprecated spellings of
            ``upsample_cfg['mode']`` and ``upsample_cfg['by_factor']``
            (a ``FutureWarning`` says so).

    The hosts' form, so that mmpose's, mmseg's and mmdet's HRNet configs
    switch to this class by their ``type`` alone (see docs/hrnet.md):

    Args:
        extra: the hosts' ``dict(stage1=..., stage2=..., stage3=...,
            stage4=...)`` (mmpose: also ``upsample``), in place of ``arch``,
            ``upsample_cfg`` and ``out_indices``, which must then stay
            unset; also taken as the first positional argument, where the
            hosts have it (``HRNet(extra, in_channels, conv_cfg, norm_cfg,
            norm_eval, with_cp)``, the positions the four hosts share; the
            rest are keywords).  Which host's HRNet it reproduces is read
            from mmengine's default scope (the config's
            ``default_scope``): ``'mmseg'`` fuses bilinearly (by the factor,
            then a resize); ``'mmpose'``, ``'mmdet'`` and ``'mmpretrain'``
            by nearest neighbours; mmpose returns only stream 0 unless
            ``extra['stage4']['multiscale_output']``, the others all four
            unless ``multiscale_output=False``; mmdet's ``norm_eval``
            defaults to True.  A malformed form raises
            :class:`~.host_form.ExtraFormError` / ``ExtraKeyError`` (a
            ``ValueError`` / ``KeyError`` and an ``AssertionError``, as
            the hosts raise), with the key named.
        multiscale_output: mmseg's, mmdet's and mmpretrain's argument (with
            ``extra`` only).
    """

    arch_zoo: Dict[str, dict] = {
        # the HRNet ImageNet release's small models; v1 is 16 wide and
        # its stage 1 a single bottleneck of 32 (128 channels out)
        'w18-small-v1': dict(channels=(16, 32, 64, 128),
                             num_modules=(1, 1, 1), num_blocks=2,
                             stage1_blocks=1, stage1_channels=32),
        'w18-small-v2': dict(channels=(18, 36, 72, 144),
                             num_modules=(1, 3, 2), num_blocks=2,
                             stage1_blocks=2),
        # mmseg's HRNetV2-W18-Small (fcn_hr18s): the release's v2
        'w18-small': dict(channels=(18, 36, 72, 144), num_modules=(1, 3, 2),
                          num_blocks=2, stage1_blocks=2),
        # W x (1, 2, 4, 8), as mmpretrain's arch_zoo and the release
        **{f'w{w}': dict(channels=(w, 2 * w, 4 * w, 8 * w),
                         num_modules=(1, 4, 3))
           for w in (18, 30, 32, 40, 44, 48, 64)},
    }
    arch_defaults = dict(num_blocks=4, block='BASIC', stage1_blocks=4,
                         stage1_channels=64, stage1_block='BOTTLENECK')
    #: the residual blocks an arch names, by the hosts' names
    blocks = {'BASIC': BasicBlock, 'BOTTLENECK': Bottleneck}

    #: Fusion upsampling of mmpose's and mmdet's HRNet (and the pose and
    #: classification releases).
    DEFAULT_UPSAMPLE = dict(mode='nearest', by_factor=False,
                            align_corners=False)

    compile_units = (BasicBlock, Bottleneck)
    #: reads other releases' checkpoints at load time (hrnet_weights.py)
    checkpoint_filter = staticmethod(hrnet_checkpoint_filter)
    #: reads the reference ImageNet classifier (the HRNet release's,
    #: timm's) into mmpretrain's HRNet classifier (hrnet_weights.py)
    reference_classifier_layout = staticmethod(mmpretrain_classifier_layout)

    def __init__(self,
                 arch: Union[str, dict, None] = None,
                 in_channels: int = 3,
                 conv_cfg: dict = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: Optional[bool] = None,
                 with_cp: bool = False,
                 *,
                 upsample_cfg: dict = DEFAULT_UPSAMPLE,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 compile_cfg: Optional[dict] = None,
                 init_cfg: Union[dict, List[dict]] = [
                     dict(type='Kaiming', layer='Conv2d'),
                     dict(type='Constant', val=1,
                          layer=['_BatchNorm', 'GroupNorm'])
                 ],
                 zero_init_residual: bool = False,
                 pretrained: Optional[str] = None,
                 extra: Optional[dict] = None,
                 multiscale_output: Optional[bool] = None,
                 upsample_mode: Optional[str] = None,
                 upsample_by_factor: Optional[bool] = None):
        init_cfg = pretrained_init_cfg(
            'HRNet', pretrained, init_cfg,
            not changed_options(HRNet, init_cfg=init_cfg))
        arch, extra = split_arch_and_extra('HRNet', arch, extra)
        host = None
        if extra is not None:
            host_form = options_from_extra(
                HRNet, arch, extra, multiscale_output,
                dict(upsample_cfg=upsample_cfg, upsample_mode=upsample_mode,
                     upsample_by_factor=upsample_by_factor,
                     out_indices=out_indices))
            arch, out_indices = host_form['arch'], host_form['out_indices']
            upsample_cfg = host_form['upsample_cfg']
            host = host_form['host']
            if norm_eval is None:
                norm_eval = host_form['norm_eval']
        elif multiscale_output is not None:
            raise ValueError('multiscale_output belongs to the hosts\' '
                             'extra= form; ours is out_indices=(0, ) for a '
                             'single output')
        arch = 'w32' if arch is None else arch
        super().__init__(in_channels, out_indices, frozen_stages,
                         bool(norm_eval), init_cfg)
        #: the host whose HRNet ``extra`` reproduces (None: our own form)
        self.host = host
        self.zero_init_residual = zero_init_residual
        upsample_cfg = complete_upsample_cfg(
            self._renamed_upsample_options(upsample_cfg, upsample_mode,
                                           upsample_by_factor),
            self.DEFAULT_UPSAMPLE)
        #: the fusion's upsampling, complete
        self.upsample_cfg = upsample_cfg
        self.arch = arch = self._resolve_arch(arch)
        stages = self._stage_layout(arch)
        pre_channels = self._build_stem_and_stage1(
            arch['stage1_channels'], arch['stage1_blocks'], conv_cfg,
            norm_cfg, with_cp, block=self.blocks[arch['stage1_block']])

        def residual_blocks(stage: int, module: int,
                            channels: List[int]) -> List[nn.Module]:
            block, widths, num_blocks = stages[stage - 2]
            return [
                make_res_layer(block, c * block.expansion, c, n,
                               conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                               with_cp=with_cp)
                for c, n in zip(widths, num_blocks)
            ]

        self._build_stages(
            [tuple(c * block.expansion for c in widths)
             for block, widths, _ in stages], arch['num_modules'],
            pre_channels, residual_blocks, conv_cfg, norm_cfg,
            downsample='stepwise', upsample_cfg=upsample_cfg)
        self._freeze_stages()
        self._apply_compile_cfg(compile_cfg)

    def init_weights(self) -> None:
        super().init_weights()
        # mmpose's rule: a checkpoint overrides the zeroing
        if self.zero_init_residual and not is_pretrained_init(self.init_cfg):
            zero_init_residual_norms(self)

    @classmethod
    def _renamed_upsample_options(cls, upsample_cfg: dict,
                                  upsample_mode: Optional[str],
                                  upsample_by_factor: Optional[bool]) -> dict:
        """``upsample_cfg`` with the deprecated ``upsample_mode`` /
        ``upsample_by_factor`` folded in (warning with the new spelling)."""
        renamed = {key: value for key, value in (
            ('mode', upsample_mode), ('by_factor', upsample_by_factor))
            if value is not None}
        if not renamed:
            return upsample_cfg
        old = ', '.join(f'upsample_{k}={v!r}' for k, v in renamed.items())
        new = ', '.join(f'{k}={v!r}' for k, v in renamed.items())
        if changed_options(cls, upsample_cfg=upsample_cfg):
            raise ValueError(f'HRNet: {old} and upsample_cfg={upsample_cfg!r}'
                             f' both say how to upsample; give only '
                             f'upsample_cfg')
        warn_renamed(f'HRNet({old})', f'upsample_cfg=dict({new})', depth=2)
        return {**upsample_cfg, **renamed}

    @classmethod
    def _resolve_arch(cls, arch: Union[str, dict]) -> dict:
        arch = cls._arch_from_zoo(arch, ('channels', 'num_modules'))
        # configs and --cfg-options give lists where the zoo has tuples
        arch['block'] = ((arch['block'], ) * 3 if isinstance(
            arch['block'], str) else tuple(arch['block']))
        if isinstance(arch['num_blocks'], int):
            arch['num_blocks'] = (arch['num_blocks'], ) * 3
        channels = arch['channels']
        per_stage = isinstance(channels[0], (list, tuple))
        if not (len(channels) == 3 and per_stage and all(
                len(c) == s for s, c in zip((2, 3, 4), channels))) and \
                not (len(channels) == 4 and not per_stage):
            raise ValueError(f'arch["channels"] needs 4 widths (one per '
                             f'stream) or 3 tuples of 2, 3 and 4 (one per '
                             f'stage 2-4), got {channels}')
        for key in ('num_modules', 'num_blocks', 'block'):
            if len(arch[key]) != 3:
                raise ValueError(f'arch["{key}"] needs 3 values (stages '
                                 f'2-4), got {arch[key]}')
        branch_block_counts(arch['num_blocks'])
        for name in arch['block'] + (arch['stage1_block'], ):
            if name not in cls.blocks:
                raise ValueError(f'unknown HRNet block {name!r}; choose from '
                                 f'{sorted(cls.blocks)}')
        return arch

    @classmethod
    def _stage_layout(cls, arch: dict) -> List[tuple]:
        """``(block class, widths, blocks per branch)`` of stages 2-4 of a
        resolved ``arch``."""
        channels = arch['channels']
        per_stage = isinstance(channels[0], (list, tuple))
        return [(cls.blocks[name],
                 tuple(channels[s - 2] if per_stage else channels[:s]),
                 counts)
                for s, name, counts in zip((2, 3, 4), arch['block'],
                                           branch_block_counts(
                                               arch['num_blocks']))]
