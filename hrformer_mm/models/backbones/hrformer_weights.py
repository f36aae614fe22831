"""HRFormer checkpoints of the reference release and of mmpose, read into
:class:`~hrformer_mm.models.backbones.HRFormer`'s key scheme.

:func:`hrformer_checkpoint_filter` runs whenever weights are loaded into an
HRFormer (a ``state_dict`` load pre-hook, see ``base.py``) and behind
``tools/convert_checkpoint.py``.  Key schemes (stem, stage 1, transition and
fusion keys are the same in all):

=========================  ==========================  =====================
reference (HRNet/HRFormer)  mmpose 1.x                  hrformer_mm
=========================  ==========================  =====================
``attn.attn.q_proj``,       ``attn.attn.qkv``           ``attn.attn.qkv``
``k_proj``, ``v_proj``      (q, k, v concatenated)
``attn.attn.out_proj``      ``attn.attn.proj``          ``attn.attn.proj``
``mlp.{fc1,norm1,...}``     ``ffn.{fc1,norm1,...}``     ``ffn.{fc1,norm1,...}``
``keypoint_head.*``         ``head.*``                  ``head.*``
``relative_position_index`` (buffer, saved)             (derived, not saved)
=========================  ==========================  =====================

The reference release has three codebases, told apart by their head keys:

* *pose* (``keypoint_head.*``): computes the relative position bias but never
  adds it to the attention logits, so its released checkpoints carry
  untrained bias tables.  They are dropped, with a warning that the model
  must be built with ``with_rpe=False`` to compute what those weights were
  trained with (``keep_rpe=True`` keeps them anyway).
* *segmentation* (``conv3x3``, ``ocr_distri_head``, ``cls_head``,
  ``aux_head``; ``seg/lib/models/nets/hrt.py``, ``HRT_*_OCR_V2``): the
  heads become mmseg's ``FCNHead`` (``decode_head.0``) and ``OCRHead``
  (``decode_head.1``) as ``configs/seg/hrformer_*_ocr_*.py`` build them;
  the reference's conv biases in front of a BatchNorm are folded into its
  running mean (``weights.fold_conv_biases``), exactly.
* *classification* (ImageNet, tensors under ``model``): the classifier
  keys are dropped.

Relative position bias tables of another window size (the 7x7-window
ImageNet checkpoint in a window-13 or window-15 model) are resized as the
reference segmentation release does (``weights.
resize_relative_position_bias_table``).
"""
import re
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from .weights import (ConversionReport, StateDict, count_kept,
                      fold_conv_biases, resize_tables, strip_module)

__all__ = ['hrformer_checkpoint_filter', 'is_hrformer_reference',
           'reference_release']

#: Keys only the ImageNet classification models have (below the backbone).
CLS_ONLY = re.compile(
    r'^(incre_modules|downsamp_modules|final_layer|classifier)\.')
_OCR_BLOCK = 'ocr_distri_head.object_context_block.'
_OURS_OCR_BLOCK = 'decode_head.1.object_context_block.'
# Reference segmentation head prefix -> mmseg prefix.  A ``ConvModule``
# target (``....conv.``) has no bias: the reference's is folded into the
# BatchNorm that follows it.
_SEG_HEAD_PREFIXES = [
    ('aux_head.0.', 'decode_head.0.convs.0.conv.'),
    ('aux_head.1.0.', 'decode_head.0.convs.0.bn.'),
    ('aux_head.2.', 'decode_head.0.conv_seg.'),
    ('conv3x3.0.', 'decode_head.1.bottleneck.conv.'),
    ('conv3x3.1.0.', 'decode_head.1.bottleneck.bn.'),
    ('cls_head.', 'decode_head.1.conv_seg.'),
    ('ocr_distri_head.conv_bn_dropout.0.',
     _OURS_OCR_BLOCK + 'bottleneck.conv.'),
    ('ocr_distri_head.conv_bn_dropout.1.0.',
     _OURS_OCR_BLOCK + 'bottleneck.bn.'),
] + [
    (f'{_OCR_BLOCK}{ref}.{i}.', f'{_OURS_OCR_BLOCK}{ours}.{j}.')
    for ref, ours in (('f_pixel', 'query_project'),
                      ('f_object', 'key_project'))
    for i, j in (('0', '0.conv'), ('1.0', '0.bn'), ('2', '1.conv'),
                 ('3.0', '1.bn'))
] + [
    (f'{_OCR_BLOCK}{ref}.{i}.', f'{_OURS_OCR_BLOCK}{ours}.{j}.')
    for ref, ours in (('f_down', 'value_project'), ('f_up', 'out_project'))
    for i, j in (('0', 'conv'), ('1.0', 'bn'))
]
_SEG_HEAD_ROOTS = ('aux_head.', 'conv3x3.', 'cls_head.', 'ocr_distri_head.',
                   'ocr_gather_head.')
_QKV = re.compile(r'^(.*\.attn\.attn)\.(q|k|v)_proj\.(weight|bias)$')
# Any key the adaptation would change: the cheap test that keeps loading a
# checkpoint in our own scheme a no-op.
_FOREIGN = re.compile(
    r'\.attn\.attn\.(q_proj|k_proj|v_proj|out_proj)\.|\.mlp\.|'
    r'relative_position_index$|^(backbone\.)?(incre_modules|downsamp_modules'
    r'|final_layer|classifier)\.|^keypoint_head\.|^(aux_head|conv3x3|'
    r'cls_head|ocr_distri_head|ocr_gather_head)\.|^module\.')
_TABLE = 'relative_position_bias_table'


def is_hrformer_reference(state: StateDict) -> bool:
    """True for the reference HRFormer release's key scheme (split q/k/v)."""
    return any(_QKV.match(k) or '.attn.attn.out_proj.' in k for k in state)


def reference_release(state: StateDict) -> str:
    """Which codebase of the reference release wrote a checkpoint."""
    if any(k.startswith('keypoint_head.') for k in state):
        return 'pose'
    if any(k.startswith(_SEG_HEAD_ROOTS) for k in state):
        return 'segmentation'
    return 'classification'


def _rename_seg_head(key: str) -> str:
    for ref, ours in _SEG_HEAD_PREFIXES:
        if key.startswith(ref):
            return ours + key[len(ref):]
    raise KeyError(f'unknown key of the reference segmentation head: {key}')


def _table_shapes(backbone: Optional[nn.Module]) -> Dict[str, torch.Size]:
    if backbone is None:
        return {}
    return {n: p.shape for n, p in backbone.named_parameters()
            if n.endswith(_TABLE)}


def _needs_adaptation(state: StateDict, bb: str,
                      tables: Dict[str, torch.Size]) -> bool:
    if any(_FOREIGN.search(k) for k in state):
        return True
    return any(bb + n in state and state[bb + n].shape != s
               for n, s in tables.items())


def hrformer_checkpoint_filter(state: StateDict,
                               backbone: Optional[nn.Module] = None,
                               whole_model: Optional[bool] = None,
                               src: str = 'auto',
                               keep_rpe: Optional[bool] = None
                               ) -> Tuple[StateDict, ConversionReport]:
    """An HRFormer checkpoint in hrformer_mm's key scheme.

    Args:
        state: a whole model's state dict (backbone under ``backbone.``) or
            a bare backbone's.
        backbone: the HRFormer the weights go into: its bias tables give
            the window size to resize to, and its ``with_rpe`` what to say
            about a reference pose checkpoint.  None: no resizing.
        whole_model: whether ``state`` is a whole model's; None guesses
            from the ``backbone.`` prefix.
        src: ``'official'`` (the reference release), ``'mmpose'`` (mmpose's
            scheme, which is ours but for the saved index buffers) or
            ``'auto'``.
        keep_rpe: keep relative position bias tables.  Default: keep them
            except for reference pose checkpoints, whose tables were never
            used in training.

    Returns:
        ``(new_state, report)``; ``report.changed`` is False (and
        ``new_state`` is ``state``) when there was nothing to adapt.
    """
    if whole_model is None:
        whole_model = any(k.startswith(('backbone.', 'module.backbone.'))
                          for k in state)
    bb = 'backbone.' if whole_model else ''
    tables = _table_shapes(backbone)
    if src == 'auto' and not _needs_adaptation(state, bb, tables):
        return state, ConversionReport(source='hrformer_mm')
    state = strip_module(state)
    if src == 'auto':
        src = 'official' if is_hrformer_reference(state) else 'mmpose'
    if src not in ('official', 'mmpose'):
        raise ValueError(f"src must be 'official', 'mmpose' or 'auto', got "
                         f'{src!r}')
    report = ConversionReport(source=src)
    if src == 'official':
        report.release = reference_release(state)
    is_reference_pose = report.release == 'pose'
    if report.release == 'segmentation':
        report.notes.append(
            'reference segmentation checkpoint: configs/seg/hrformer_*_ocr_*'
            '.py compute what it was trained with (backbone upsample_cfg='
            "dict(mode='nearest', by_factor=True, align_corners=True), heads "
            'with align_corners=True, 3x3 auxiliary conv to 512 channels)')
    if keep_rpe is None:
        keep_rpe = not is_reference_pose
    if is_reference_pose and not keep_rpe:
        report.with_rpe = False
        if backbone is not None and not tables:
            report.notes.append(
                'reference pose checkpoint: its relative position bias was '
                'never added during training, so the bias tables were '
                'dropped; this model is built with with_rpe=False, as they '
                'were trained')
        else:
            report.warning = True
            report.notes.append(
                'reference pose checkpoint: its relative position bias was '
                'never added during training, so the bias tables were '
                'dropped; build the backbone with with_rpe=False '
                '(--cfg-options model.backbone.with_rpe=False) to reproduce '
                'it')

    out, qkv = {}, {}
    for key, value in state.items():
        in_backbone = key.startswith(bb)
        inner = key[len(bb):] if in_backbone else None
        if in_backbone and key.endswith('relative_position_index'):
            report.drop('derived buffer, recomputed by the model', key)
            continue
        if in_backbone and key.endswith(_TABLE) and not keep_rpe:
            report.drop('unused relative position bias', key)
            continue
        if in_backbone and CLS_ONLY.match(inner):
            report.drop('ImageNet classification head', key)
            continue
        new = key
        if src == 'official' and in_backbone:
            m = _QKV.match(key)
            if m:
                qkv.setdefault((m.group(1), m.group(3)), {})[m.group(2)] = \
                    value
                continue
            new = new.replace('.attn.attn.out_proj.', '.attn.attn.proj.')
            new = re.sub(r'\.mlp\.', '.ffn.', new)
        elif whole_model and key.startswith('keypoint_head.'):
            # mmpose 0.x's name, which the reference pose release kept
            new = 'head.' + key[len('keypoint_head.'):]
        elif src == 'official' and whole_model and \
                key.startswith(_SEG_HEAD_ROOTS):
            new = _rename_seg_head(key)
        if new != key:
            report.renamed += 1
        out[new] = value
    for (prefix, kind), parts in qkv.items():
        if set(parts) != {'q', 'k', 'v'}:
            raise KeyError(f'{prefix}: incomplete q/k/v projections '
                           f'({sorted(parts)})')
        out[f'{prefix}.qkv.{kind}'] = torch.cat(
            [parts['q'], parts['k'], parts['v']], dim=0)
        report.merged_qkv += 1
    if report.release == 'segmentation' and whole_model:
        report.folded_biases = fold_conv_biases(out)
    if keep_rpe:
        resize_tables(out, tables, bb, report)
    count_kept(out, report)
    return out, report
