"""Checkpoints of the public HRViT code (facebookresearch/HRViT) read into
:class:`~hrformer_mm.models.backbones.HRViT`'s key scheme.

The public code keeps fusions and stages alternating in one ``features``
Sequential; ours pairs them per module: module 2m of ``features`` is the
fusion of our ``stages.m``, module 2m + 1 its branches; block,
patch-embedding and attention sub-module names change as in
``_HRVIT_BLOCK``.  :func:`hrvit_checkpoint_filter` runs whenever weights are
loaded into an HRViT (a ``state_dict`` load pre-hook, see ``base.py``)
and behind ``tools/convert_checkpoint.py``.  It reads the backbone alone,
the ImageNet model (whose classifier ``head.*`` is dropped) and the mmseg
0.x segmentation model (``backbone.*`` plus ``decode_head.*``, whose head
keys are :class:`~hrformer_mm.models.heads.SegFormerMLPHead`'s).
"""
import re
from typing import Optional, Tuple

import torch.nn as nn

from .weights import ConversionReport, StateDict, count_kept, strip_module

__all__ = ['hrvit_checkpoint_filter', 'is_hrvit_reference']

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


def is_hrvit_reference(state: StateDict) -> bool:
    """True for a state dict in the public HRViT code's key scheme."""
    return any(_HRVIT_FEATURES.match(k) and '.attn.to_qkv.' in k
               for k in state)


def _rename(key: str) -> str:
    m = _HRVIT_FEATURES.match(key)
    if not m:
        return key
    prefix, index, rest = m.group(1), int(m.group(2)), m.group(3)
    stage = f'{prefix}stages.{index // 2}.'
    if index % 2 == 0:
        if not rest.startswith('blocks.'):
            raise KeyError(f'unexpected fusion key {key}')
        return stage + 'fusion.' + rest[len('blocks.'):]
    for pattern, repl in _HRVIT_STAGE:
        rest, n = pattern.subn(repl, rest)
        if n:
            break
    else:
        raise KeyError(f'unexpected stage key {key}')
    for old, repl in _HRVIT_BLOCK.items():
        rest = rest.replace(old, repl)
    return stage + rest


def hrvit_checkpoint_filter(state: StateDict,
                            backbone: Optional[nn.Module] = None,
                            whole_model: Optional[bool] = None
                            ) -> Tuple[StateDict, ConversionReport]:
    """A checkpoint of the public HRViT code in our key scheme.  Returns
    ``(new_state, report)``; ``report.changed`` is False when there was
    nothing to adapt (a checkpoint in our scheme)."""
    bare_classifier = whole_model is False and any(
        k.startswith('head.') for k in state)
    if not is_hrvit_reference(state) and not bare_classifier and \
            not any(k.startswith('module.') for k in state):
        return state, ConversionReport(source='hrformer_mm')
    if whole_model is None:
        # the public ImageNet model has its classifier at ``head.``, where a
        # whole pose model has its head: only ``backbone.`` tells them apart
        whole_model = any(k.startswith(('backbone.', 'module.backbone.'))
                          for k in state)
    state = strip_module(state)
    report = ConversionReport(source='hrvit')
    out = {}
    for key, value in state.items():
        if not whole_model and key.startswith('head.'):
            report.drop('ImageNet classification head', key)
            continue
        new = _rename(key) if not whole_model or \
            key.startswith('backbone.') else key
        if new != key:
            report.renamed += 1
        out[new] = value
    count_kept(out, report)
    return out, report
