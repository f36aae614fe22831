"""HRNet checkpoints of mmpose, mmseg, mmdet, mmpretrain, timm and the
reference ImageNet release, read into
:class:`~hrformer_mm.models.backbones.HRNet`.

Their backbone keys are already ours (``conv1``, ``bn1``, ``layer1``,
``transition{n}``, ``stage{n}``).  :func:`hrnet_checkpoint_filter`, run
whenever weights are loaded into an HRNet (a ``state_dict`` load pre-hook,
see ``base.py``) and behind ``tools/convert_checkpoint.py``, only drops
the ImageNet classifier (``incre_modules``, ``downsamp_modules``,
``final_layer``, ``classifier``) and renames mmpose 0.x's
``keypoint_head`` to ``head``.

The reference release's classifier (HRNet-Image-Classification's
``cls_hrnet.py``; timm's ``hrnet_w*`` keep its names, and its
``features_only`` models hold the backbone and ``incre_modules`` alone)
loaded into mmpretrain's own HRNet classifier (``HRFuseScales`` neck,
``LinearClsHead``) is moved into that layout by
:func:`mmpretrain_classifier_layout`; mmpretrain's checkpoints are in it
already.
"""
import re
from typing import Callable, Optional, Tuple

import torch.nn as nn

from .weights import (ConversionReport, StateDict, count_kept,
                      fold_conv_biases, strip_module)

__all__ = ['hrnet_checkpoint_filter', 'is_hrnet',
           'mmpretrain_classifier_layout']

CLS_ONLY = re.compile(
    r'^(incre_modules|downsamp_modules|final_layer|classifier)\.')
_FOREIGN = re.compile(
    r'^(backbone\.)?(incre_modules|downsamp_modules|final_layer|classifier)'
    r'\.|^keypoint_head\.|^module\.')
# An HRNet BasicBlock branch (HRFormer branches hold attention blocks).
_HRNET_BRANCH = re.compile(
    r'(^|\.)stage2\.0\.branches\.0\.0\.conv1\.weight$')


def is_hrnet(state: StateDict) -> bool:
    """True for an HRNet's keys (BasicBlock branches)."""
    return any(_HRNET_BRANCH.search(k) for k in state)


def hrnet_checkpoint_filter(state: StateDict,
                            backbone: Optional[nn.Module] = None,
                            whole_model: Optional[bool] = None
                            ) -> Tuple[StateDict, ConversionReport]:
    """An HRNet checkpoint for ``hrformer_mm.HRNet``: ``module.`` stripped,
    the ImageNet classifier dropped, mmpose 0.x's ``keypoint_head`` renamed
    to ``head`` (whole models).  Returns ``(new_state, report)``;
    ``report.changed`` is False when there was nothing to adapt."""
    if not any(_FOREIGN.search(k) for k in state):
        return state, ConversionReport(source='hrformer_mm')
    if whole_model is None:
        whole_model = any(k.startswith(('backbone.', 'module.backbone.'))
                          for k in state)
    bb = 'backbone.' if whole_model else ''
    state = strip_module(state)
    report = ConversionReport(source='hrnet')
    out = {}
    for key, value in state.items():
        if key.startswith(bb) and CLS_ONLY.match(key[len(bb):]):
            report.drop('ImageNet classification head', key)
            continue
        new = key
        if whole_model and key.startswith('keypoint_head.'):
            new = 'head.' + key[len('keypoint_head.'):]
            report.renamed += 1
        out[new] = value
    count_kept(out, report)
    if any(k.startswith('decode_head.') for k in out):
        report.notes.append("mmseg model: build hrformer_mm.HRNet with "
                            "upsample_cfg=dict(mode='bilinear', "
                            "by_factor=True)")
    elif any(k.startswith('head.') for k in out):
        report.notes.append("mmpose model: build hrformer_mm.HRNet with "
                            "upsample_cfg=dict(mode='nearest') (the "
                            "default)")
    else:
        report.notes.append("backbone weights: upsample_cfg=dict(mode="
                            "'bilinear', by_factor=True) reproduces mmseg's "
                            "HRNet, dict(mode='nearest') mmpose's")
    return out, report


# ``downsamp_modules.i`` / ``final_layer``: Sequential(conv, BN, ReLU) in the
# release, a ConvModule (``conv``, ``bn``) in mmpretrain's HRFuseScales
_REFERENCE_HEAD = re.compile(
    r'^(head\.)?(?:(incre_modules)|(downsamp_modules\.\d+|final_layer)\.'
    r'([01])|(classifier))\.')
_CONV_MODULE = {'0': 'conv', '1': 'bn'}


def _fuse_scales_prefix(neck: Optional[nn.Module]) -> Optional[str]:
    """Where mmpretrain's ``HRFuseScales`` sits in an ImageClassifier's
    ``neck``: ``'neck.'``, ``'neck.<i>.'`` in a list of necks (its configs'
    ``[HRFuseScales, GlobalAveragePooling]``), or None."""
    try:
        from mmpretrain.models.necks import HRFuseScales
    except ImportError:
        return None
    if isinstance(neck, HRFuseScales):
        return 'neck.'
    if isinstance(neck, nn.Sequential):
        for name, child in neck.named_children():
            if isinstance(child, HRFuseScales):
                return f'neck.{name}.'
    return None


def mmpretrain_classifier_layout(
        parent: nn.Module) -> Optional[Callable[[StateDict], StateDict]]:
    """For an mmpretrain ``ImageClassifier`` with ``HRFuseScales``, the
    function that moves a reference classifier's keys (bare backbone,
    head beside it) into its layout; None for any other model.

    ``incre_modules`` become ``increase_layers`` (the same bottlenecks),
    ``downsamp_modules`` ``downsample_layers`` and ``final_layer`` stays,
    their ``0`` / ``1`` becoming ConvModule's ``conv`` / ``bn``;
    ``classifier`` becomes ``head.fc``.  HRFuseScales' convolutions have
    no bias: the release's (timm's ``head_conv_bias``) are folded into the
    BatchNorm running means that follow them, which computes the same
    (``fold_conv_biases``).
    """
    neck = _fuse_scales_prefix(getattr(parent, 'neck', None))
    if neck is None:
        return None

    def to_layout(state: StateDict) -> StateDict:
        out = {}
        for key, value in state.items():
            m = _REFERENCE_HEAD.match(key)
            if m is None:
                out['backbone.' + key] = value
                continue
            incre, conv_block, index, classifier = m.group(2, 3, 4, 5)
            rest = key[m.end():]
            if incre:
                new = f'{neck}increase_layers.{rest}'
            elif classifier:
                new = f'head.fc.{rest}'
            else:
                block = conv_block.replace('downsamp_modules',
                                           'downsample_layers')
                new = f'{neck}{block}.{_CONV_MODULE[index]}.{rest}'
            out[new] = value
        fold_conv_biases(out, under=neck)
        return out

    return to_layout
