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

The reference *pose* code computes the relative position bias but never adds
it to the attention logits, so its released pose checkpoints carry untrained
bias tables.  Converting one drops the tables and reports that the model
must be built with ``with_rpe=False`` to compute what those weights were
trained with (pass ``keep_rpe=True`` to keep them anyway).
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List

import torch

__all__ = ['ConversionReport', 'convert_hrformer_checkpoint', 'detect_source',
           'convert_hrvit_checkpoint', 'is_hrvit_reference']

# Keys only the ImageNet classification models have.
_CLS_ONLY = re.compile(
    r'^(incre_modules|downsamp_modules|final_layer|classifier)\.')
_QKV = re.compile(r'^(.*\.attn\.attn)\.(q|k|v)_proj\.(weight|bias)$')


@dataclass
class ConversionReport:
    source: str
    renamed: int = 0
    merged_qkv: int = 0
    dropped: Dict[str, List[str]] = field(default_factory=dict)
    #: Build the model with this ``with_rpe`` to reproduce the checkpoint.
    with_rpe: bool = True
    notes: List[str] = field(default_factory=list)

    def drop(self, reason: str, key: str) -> None:
        self.dropped.setdefault(reason, []).append(key)

    def summary(self) -> str:
        lines = [f'source: {self.source}', f'renamed keys: {self.renamed}',
                 f'q/k/v projections merged into qkv: {self.merged_qkv}']
        for reason, keys in self.dropped.items():
            lines.append(f'dropped {len(keys)} keys ({reason}):')
            lines += [f'  {k}' for k in keys[:20]]
            if len(keys) > 20:
                lines.append(f'  ... and {len(keys) - 20} more')
        lines += self.notes
        return '\n'.join(lines)


def detect_source(state: Dict[str, torch.Tensor]) -> str:
    """'official' for the reference release's key scheme, 'mmpose' for
    mmpose's (which this package shares)."""
    if any(_QKV.match(k) or '.attn.attn.out_proj.' in k for k in state):
        return 'official'
    return 'mmpose'


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
    is_reference_pose = src == 'official' and any(
        k.startswith('keypoint_head.') for k in state)
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
