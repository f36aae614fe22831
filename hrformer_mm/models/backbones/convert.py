"""Offline checkpoint conversion: what the backbones' load pre-hooks do
when weights are loaded, on a checkpoint's state dict
(``tools/convert_checkpoint.py``).

The table of formats: each source names the family module that reads it
(``*_weights.py``, the functions the backbone classes name as their
``checkpoint_filter``).
"""
from typing import Optional, Tuple

import torch.nn as nn

from .hrformer_weights import hrformer_checkpoint_filter, is_hrformer_reference
from .hrnet_weights import hrnet_checkpoint_filter, is_hrnet
from .hrvit_weights import hrvit_checkpoint_filter, is_hrvit_reference
from .weights import (ConversionReport, StateDict, count_kept, strip_module,
                      unwrap)

__all__ = ['SOURCES', 'detect_source', 'convert_checkpoint']

#: ``src`` values of :func:`convert_checkpoint` (besides ``'auto'``)
SOURCES = ('official', 'mmpose', 'hrnet', 'hrvit')


def detect_source(state: StateDict) -> str:
    """'official' for the reference HRFormer release's key scheme, 'mmpose'
    for mmpose's HRFormer (which this package shares), 'hrnet' for an HRNet
    (mmpose's, mmseg's, mmdet's or the reference release), 'hrvit' for the
    public HRViT code's."""
    if is_hrvit_reference(state):
        return 'hrvit'
    if is_hrformer_reference(state):
        return 'official'
    if is_hrnet(state):
        return 'hrnet'
    return 'mmpose'


def convert_checkpoint(state: StateDict, src: str = 'auto',
                       keep_rpe: Optional[bool] = None,
                       backbone: Optional[nn.Module] = None
                       ) -> Tuple[StateDict, ConversionReport]:
    """What the load pre-hooks do, on a checkpoint's state dict, offline.

    ``src``: one of :data:`SOURCES` or ``'auto'`` (detected);
    ``keep_rpe``: see :func:`~.hrformer_weights.hrformer_checkpoint_filter`;
    ``backbone``: the backbone the result is for (bias tables of another
    window size are resized to its own; without it they are kept as they
    are, and the load pre-hook resizes them when they are loaded).
    Returns ``(new_state, report)``.
    """
    state, unwrapped = unwrap(state)
    state = strip_module(state)
    if src == 'auto':
        src = detect_source(state)
    if src not in SOURCES:
        raise ValueError(f'src must be one of {SOURCES} or auto, got '
                         f'{src!r}')
    if src == 'hrnet':
        new, report = hrnet_checkpoint_filter(state, backbone)
    elif src == 'hrvit':
        new, report = hrvit_checkpoint_filter(state, backbone)
    else:
        new, report = hrformer_checkpoint_filter(state, backbone, src=src,
                                                 keep_rpe=keep_rpe)
    if not report.changed:
        report.source = src
        count_kept(new, report)
    report.unwrapped = unwrapped
    return new, report
