"""HRNet checkpoints of mmpose, mmseg, mmdet and the reference ImageNet
release, read into :class:`~hrformer_mm.models.backbones.HRNet`.

Their backbone keys are already ours (``conv1``, ``bn1``, ``layer1``,
``transition{n}``, ``stage{n}``).  :func:`hrnet_checkpoint_filter`, run
whenever weights are loaded into an HRNet (a ``state_dict`` load pre-hook,
see ``weights.py``) and behind ``tools/convert_checkpoint.py``, only drops
the ImageNet classifier (``incre_modules``, ``downsamp_modules``,
``final_layer``, ``classifier``) and renames mmpose 0.x's
``keypoint_head`` to ``head``.
"""
import re
from typing import Optional, Tuple

import torch.nn as nn

from .weights import ConversionReport, StateDict, count_kept, strip_module

__all__ = ['hrnet_checkpoint_filter', 'is_hrnet']

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
