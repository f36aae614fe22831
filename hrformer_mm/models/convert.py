"""Checkpoint conversion for HRFormer: the reference release and mmpose's
port into this implementation's key scheme.

Key schemes (stem, stage 1, transition and fusion keys are the same in all):

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
  untrained bias tables.  Converting one drops the tables and reports that
  the model must be built with ``with_rpe=False`` to compute what those
  weights were trained with (pass ``keep_rpe=True`` to keep them anyway).
* *segmentation* (``conv3x3``, ``ocr_distri_head``, ``cls_head``,
  ``aux_head``; ``seg/lib/models/nets/hrt.py``, ``HRT_*_OCR_V2``): the
  heads become mmseg's ``FCNHead`` (``decode_head.0``) and ``OCRHead``
  (``decode_head.1``) as ``configs/seg/hrformer_*_ocr_*.py`` build them.
  The reference's convs in front of a BatchNorm carry a bias, mmseg's do
  not: BN(conv(x) + b) with running mean m equals BN(conv(x)) with running
  mean m - b (and batch statistics cancel b), so the bias is folded into
  the running mean, exactly.
* *classification* (ImageNet): the classifier keys are dropped.

=========================================  =========================
HRNet checkpoints (mmpose's, mmseg's, mmdet's and the reference ImageNet
release) already use ``hrformer_mm.HRNet``'s keys: :func:`convert_checkpoint`
passes them through, dropping only the ImageNet classifier and renaming
mmpose 0.x's ``keypoint_head`` to ``head``, and reports what it kept.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List

import torch

__all__ = ['ConversionReport', 'convert_checkpoint',
           'convert_hrformer_checkpoint', 'convert_hrnet_checkpoint',
           'convert_hrvit_checkpoint', 'detect_source', 'is_hrvit_reference',
           'reference_release', 'SOURCES']

SOURCES = ('official', 'mmpose', 'hrnet', 'hrvit')

# Keys only the ImageNet classification models have.
_CLS_ONLY = re.compile(
    r'^(backbone\.)?(incre_modules|downsamp_modules|final_layer|classifier)'
    r'\.')
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
# An HRNet BasicBlock branch (HRFormer branches hold attention blocks).
_HRNET_BRANCH = re.compile(
    r'(^|\.)stage2\.0\.branches\.0\.0\.conv1\.weight$')
_MODEL_PARTS = ('backbone', 'neck', 'head', 'decode_head', 'auxiliary_head',
                'rpn_head', 'roi_head')


@dataclass
class ConversionReport:
    source: str
    renamed: int = 0
    merged_qkv: int = 0
    #: tensors kept, per top-level prefix (``backbone``, ``head``, ...)
    kept: Dict[str, int] = field(default_factory=dict)
    dropped: Dict[str, List[str]] = field(default_factory=dict)
    #: 'pose', 'segmentation' or 'classification' for reference checkpoints.
    release: str = None
    #: Build the model with this ``with_rpe`` to reproduce the checkpoint.
    with_rpe: bool = True
    folded_biases: int = 0
    notes: List[str] = field(default_factory=list)

    def drop(self, reason: str, key: str) -> None:
        self.dropped.setdefault(reason, []).append(key)

    def summary(self) -> str:
        source = self.source if self.release is None else \
            f'{self.source} ({self.release} release)'
        lines = [f'source: {source}', f'renamed keys: {self.renamed}']
        if self.source != 'hrnet':
            lines.append(
                f'q/k/v projections merged into qkv: {self.merged_qkv}')
        if self.folded_biases:
            lines.append(f'conv biases folded into BatchNorm running means: '
                         f'{self.folded_biases}')
        lines += [f'kept {n} tensors under {prefix}'
                  for prefix, n in sorted(self.kept.items())]
        for reason, keys in self.dropped.items():
            lines.append(f'dropped {len(keys)} keys ({reason}):')
            lines += [f'  {k}' for k in keys[:20]]
            if len(keys) > 20:
                lines.append(f'  ... and {len(keys) - 20} more')
        lines += self.notes
        return '\n'.join(lines)


def detect_source(state: Dict[str, torch.Tensor]) -> str:
    """'official' for the reference HRFormer release's key scheme, 'mmpose'
    for mmpose's HRFormer (which this package shares), 'hrnet' for an HRNet
    (mmpose's, mmseg's, mmdet's or the reference release), 'hrvit' for the
    public HRViT code's."""
    if is_hrvit_reference(state):
        return 'hrvit'
    if any(_QKV.match(k) or '.attn.attn.out_proj.' in k for k in state):
        return 'official'
    if any(_HRNET_BRANCH.search(k) for k in state):
        return 'hrnet'
    return 'mmpose'


def reference_release(state: Dict[str, torch.Tensor]) -> str:
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


def _fold_conv_biases(state: Dict[str, torch.Tensor]) -> int:
    """Fold ``X.conv.bias`` into ``X.bn.running_mean`` (see the module
    docstring); returns how many were folded."""
    folded = [k for k in state
              if k.startswith('decode_head.') and k.endswith('.conv.bias')]
    for key in folded:
        mean = key[:-len('conv.bias')] + 'bn.running_mean'
        if mean not in state:
            raise KeyError(f'{key}: no BatchNorm running mean to fold the '
                           f'bias into ({mean})')
        state[mean] = state[mean] - state.pop(key)
    return len(folded)


def _strip_module(state):
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items()}


def convert_hrformer_checkpoint(state: Dict[str, torch.Tensor],
                                src: str = 'auto',
                                keep_rpe: bool = None):
    """Convert a state dict into hrformer_mm's key scheme.

    Args:
        state: the checkpoint's state dict (``checkpoint['state_dict']``).
        src: ``'official'``, ``'mmpose'`` or ``'auto'`` (detected).
        keep_rpe: keep relative position bias tables.  Default: keep them
            except for reference pose checkpoints, whose tables were never
            used in training.

    Returns:
        ``(new_state, report)``.
    """
    state = _strip_module(state)
    if src == 'auto':
        src = detect_source(state)
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
        report.notes.append(
            'reference pose checkpoint: its relative position bias was never '
            'added during training, so the bias tables were dropped; build '
            'the backbone with with_rpe=False '
            '(--cfg-options model.backbone.with_rpe=False) to reproduce it')

    out, qkv = {}, {}
    for key, value in state.items():
        if key.endswith('relative_position_index'):
            report.drop('derived buffer, recomputed by the model', key)
            continue
        if key.endswith('relative_position_bias_table') and not keep_rpe:
            report.drop('unused relative position bias', key)
            continue
        if _CLS_ONLY.match(key):
            report.drop('ImageNet classification head', key)
            continue
        new = key
        if src == 'official':
            m = _QKV.match(key)
            if m:
                qkv.setdefault((m.group(1), m.group(3)), {})[m.group(2)] = \
                    value
                continue
            new = new.replace('.attn.attn.out_proj.', '.attn.attn.proj.')
            new = re.sub(r'\.mlp\.', '.ffn.', new)
            if new.startswith('keypoint_head.'):
                new = 'head.' + new[len('keypoint_head.'):]
            elif new.startswith(_SEG_HEAD_ROOTS):
                new = _rename_seg_head(new)
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
    if report.release == 'segmentation':
        report.folded_biases = _fold_conv_biases(out)
    _count_kept(out, report)
    return out, report


# HRViT: the public code (facebookresearch/HRViT) keeps fusions and stages
# alternating in one ``features`` Sequential; ours pairs them per module.
_HRVIT_FEATURES = re.compile(r'^(.*?)features\.(\d+)\.(.*)$')
_HRVIT_STAGE = [
    (re.compile(r'^patch_embed\.(\d+)\.proj\.0\.'),
     r'branches.\1.patch_embed.pwconv.'),
    (re.compile(r'^patch_embed\.(\d+)\.proj\.1\.'),
     r'branches.\1.patch_embed.dwconv.'),
    (re.compile(r'^patch_embed\.(\d+)\.norm\.'),
     r'branches.\1.patch_embed.norm.'),
    (re.compile(r'^branches\.(\d+)\.(\d+)\.'), r'branches.\1.blocks.\2.'),
    (re.compile(r'^norm\.(\d+)\.'), r'branches.\1.norm.'),
]
_HRVIT_BLOCK = {
    '.attn_norm.': '.norm1.', '.ffn_norm.': '.norm2.',
    '.attn.to_qkv.': '.attn.qv.', '.attn.to_out.0.': '.attn.proj.',
    '.attn.attn_bn.': '.attn.norm.',
    '.attn.parallel_conv.1.': '.attn.value_conv.',
    '.ffn.conv.conv_3.': '.ffn.dwconv3.', '.ffn.conv.conv_5.': '.ffn.dwconv5.',
}


def is_hrvit_reference(state: Dict[str, torch.Tensor]) -> bool:
    """True for a state dict in the public HRViT code's key scheme."""
    return any(_HRVIT_FEATURES.match(k) and '.attn.to_qkv.' in k
               for k in state)


def convert_hrvit_checkpoint(state: Dict[str, torch.Tensor]):
    """Convert a checkpoint of the public HRViT code (backbone alone, the
    ImageNet model or an mmseg 0.x segmentation model) into the key scheme
    of :class:`~hrformer_mm.models.backbones.HRViT`.

    Module 2m of ``features`` is the fusion of our ``stages.m``, module
    2m + 1 its branches; block, patch-embedding and attention sub-module
    names change as in ``_HRVIT_BLOCK``.  The ImageNet classifier (``head.*``)
    is dropped; stem and decode-head keys are kept.

    Returns:
        ``(new_state, report)``.
    """
    state = _strip_module(state)
    report = ConversionReport(source='hrvit')
    out = {}
    for key, value in state.items():
        if key.startswith('head.'):
            report.drop('ImageNet classification head', key)
            continue
        new = key
        m = _HRVIT_FEATURES.match(key)
        if m:
            prefix, index, rest = m.group(1), int(m.group(2)), m.group(3)
            stage = f'{prefix}stages.{index // 2}.'
            if index % 2 == 0:
                if not rest.startswith('blocks.'):
                    raise KeyError(f'unexpected fusion key {key}')
                new = stage + 'fusion.' + rest[len('blocks.'):]
            else:
                for pattern, repl in _HRVIT_STAGE:
                    rest, n = pattern.subn(repl, rest)
                    if n:
                        break
                else:
                    raise KeyError(f'unexpected stage key {key}')
                for old, repl in _HRVIT_BLOCK.items():
                    rest = rest.replace(old, repl)
                new = stage + rest
        if new != key:
            report.renamed += 1
        out[new] = value
    return out, report


def _count_kept(state: Dict[str, torch.Tensor],
                report: ConversionReport) -> None:
    for key in state:
        prefix = key.split('.', 1)[0]
        prefix = prefix if prefix in _MODEL_PARTS else '(backbone, bare)'
        report.kept[prefix] = report.kept.get(prefix, 0) + 1


def convert_hrnet_checkpoint(state: Dict[str, torch.Tensor]):
    """An HRNet checkpoint for ``hrformer_mm.HRNet``: keys unchanged except
    ``module.`` stripped, mmpose 0.x's ``keypoint_head`` renamed to ``head``
    and the ImageNet classifier dropped.  Returns ``(new_state, report)``."""
    state = _strip_module(state)
    report = ConversionReport(source='hrnet')
    out = {}
    for key, value in state.items():
        bare = key[len('backbone.'):] if key.startswith('backbone.') else key
        if _CLS_ONLY.match(bare):
            report.drop('ImageNet classification head', key)
            continue
        new = key
        if key.startswith('keypoint_head.'):
            new = 'head.' + key[len('keypoint_head.'):]
            report.renamed += 1
        out[new] = value
    _count_kept(out, report)
    if any(k.startswith('decode_head.') for k in out):
        report.notes.append("mmseg model: build hrformer_mm.HRNet with "
                            "upsample_mode='bilinear'")
    elif any(k.startswith('head.') for k in out):
        report.notes.append("mmpose model: build hrformer_mm.HRNet with "
                            "upsample_mode='nearest' (the default)")
    else:
        report.notes.append("backbone weights: upsample_mode='bilinear' "
                            "reproduces mmseg's HRNet, 'nearest' mmpose's")
    return out, report


def convert_checkpoint(state: Dict[str, torch.Tensor], src: str = 'auto',
                       keep_rpe: bool = None):
    """Convert an HRFormer, HRNet or HRViT checkpoint; ``src`` one of
    :data:`SOURCES` or ``'auto'``.  Returns ``(new_state, report)``."""
    if src == 'auto':
        src = detect_source(_strip_module(state))
    if src == 'hrnet':
        return convert_hrnet_checkpoint(state)
    if src == 'hrvit':
        return convert_hrvit_checkpoint(state)
    return convert_hrformer_checkpoint(state, src, keep_rpe)
