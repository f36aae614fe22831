"""Checkpoint adaptation shared by the backbone families.

Each family keeps the function that reads other releases' checkpoints next
to its model (``hrformer_weights``, ``hrnet_weights``, ``hrvit_weights``),
as timm keeps a ``checkpoint_filter_fn`` beside each model.  This module
holds what they share: the report, the tensor reshuffles, and the two
``state_dict`` load pre-hooks through which every way mmengine loads weights
(``load_from``, ``init_cfg=dict(type='Pretrained')``, ``tools/test.py
CONFIG CKPT``, ``init_model``) reaches those functions.

Why two hooks.  ``torch.nn.Module.load_state_dict`` and mmengine's
``load_state_dict`` hand each child only the keys under its own prefix, so
a backbone's hook never sees the head keys of a whole-model checkpoint
(``keypoint_head.*``, the reference segmentation heads).  Hence:

* the *backbone* hook adapts the keys under the backbone's prefix (a
  backbone-only checkpoint, ``init_cfg=dict(type='Pretrained')``);
* the *parent* hook, put on whatever module holds a backbone as its
  ``backbone`` child (the host's pose estimator, segmentor, detector), sees
  the whole model's keys, adapts the backbone's and its siblings' keys in
  one go, and runs before the parent lists unexpected keys, so renamed keys
  are never reported as unexpected and keys nobody renamed still are.  The
  backbone's own hook then finds its keys in our scheme and does nothing.

The parent hook is put on the parent when the backbone is assigned to it
(a global module-registration hook, torch's one way to learn a module's
parent).  Both hooks are no-ops on state dicts already in our scheme
(our own checkpoints, ``--resume``): a scan of the key names, nothing
copied, nothing logged.
"""
import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['ConversionReport', 'StateDict', 'strip_module',
           'resize_relative_position_bias_table', 'fold_conv_biases',
           'count_kept', 'adapt_state_dict_for_model']

StateDict = Dict[str, torch.Tensor]
#: ``filter(state, backbone, whole_model) -> (new_state, report)``;
#: ``backbone`` is the module the weights go into (None offline),
#: ``whole_model`` says whether ``state`` is a whole model's (backbone
#: under ``backbone.``) or a bare backbone's.
CheckpointFilter = Callable[[StateDict, Optional[nn.Module], bool],
                            Tuple[StateDict, 'ConversionReport']]

MODEL_PARTS = ('backbone', 'neck', 'head', 'decode_head', 'auxiliary_head',
               'rpn_head', 'roi_head', 'data_preprocessor')


@dataclass
class ConversionReport:
    """What a checkpoint adaptation changed (:meth:`summary` says it)."""
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
    #: ``(from_grid, to_grid, count)`` of resized bias tables
    resized: List[Tuple[int, int, int]] = field(default_factory=list)
    unwrapped: str = None
    #: log the adaptation as a warning (the model will not compute what
    #: the checkpoint was trained with)
    warning: bool = False
    notes: List[str] = field(default_factory=list)

    def drop(self, reason: str, key: str) -> None:
        self.dropped.setdefault(reason, []).append(key)

    @property
    def changed(self) -> bool:
        """Whether the adapted state dict differs from the input."""
        return bool(self.renamed or self.merged_qkv or self.dropped
                    or self.folded_biases or self.resized or self.unwrapped)

    def summary(self) -> str:
        source = self.source if self.release is None else \
            f'{self.source} ({self.release} release)'
        lines = [f'source: {source}']
        if self.unwrapped:
            lines.append(f'took the state dict under {self.unwrapped!r}')
        lines.append(f'renamed keys: {self.renamed}')
        if self.merged_qkv:
            lines.append(
                f'q/k/v projections merged into qkv: {self.merged_qkv}')
        if self.folded_biases:
            lines.append(f'conv biases folded into BatchNorm running means: '
                         f'{self.folded_biases}')
        for src, dst, n in self.resized:
            lines.append(
                f'relative position bias tables resized from {src}x{src} to '
                f'{dst}x{dst} (bilinear, as the reference segmentation '
                f'release initialises its large-window models): {n}')
        lines += [f'kept {n} tensors under {prefix}'
                  for prefix, n in sorted(self.kept.items())]
        for reason, keys in self.dropped.items():
            lines.append(f'dropped {len(keys)} keys ({reason}):')
            lines += [f'  {k}' for k in keys[:20]]
            if len(keys) > 20:
                lines.append(f'  ... and {len(keys) - 20} more')
        lines += self.notes
        return '\n'.join(lines)


def strip_module(state: StateDict) -> StateDict:
    """Keys without DataParallel's ``module.`` prefix."""
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items()}


def resize_relative_position_bias_table(table: torch.Tensor,
                                        grid: int) -> torch.Tensor:
    """A ``((2K-1)**2, heads)`` bias table resized to ``(grid**2, heads)``.

    The reference segmentation release initialises its window-13 and
    window-15 models from the 7x7-window ImageNet checkpoint this way
    (``seg/lib/models/tools/module_helper.py``, ``hrt_window``): each head's
    table as a square image, bilinear interpolation with ``align_corners``
    unset (False).
    """
    length, heads = table.shape
    src = int(round(length**0.5))
    if src * src != length:
        raise ValueError(f'bias table of {length} rows is not a square grid')
    image = table.t().reshape(1, heads, src, src)
    resized = F.interpolate(image.float(), size=(grid, grid),
                            mode='bilinear', align_corners=False)
    return resized.reshape(heads, grid * grid).t().to(table.dtype)


def resize_tables(state: StateDict, targets: Dict[str, torch.Size],
                  prefix: str, report: ConversionReport) -> None:
    """Resize, in place, every bias table under ``prefix`` whose grid
    differs from the model's (``targets``: name without prefix -> shape)."""
    counts: Dict[Tuple[int, int], int] = {}
    for name, shape in targets.items():
        key = prefix + name
        table = state.get(key)
        if table is None or table.shape == shape or table.dim() != 2 or \
                table.shape[1] != shape[1]:
            continue  # absent, equal, or a real mismatch left to report
        src, dst = (int(round(n**0.5)) for n in (table.shape[0], shape[0]))
        if src * src != table.shape[0] or dst * dst != shape[0]:
            continue
        state[key] = resize_relative_position_bias_table(table, dst)
        counts[src, dst] = counts.get((src, dst), 0) + 1
    report.resized += [(s, d, n) for (s, d), n in sorted(counts.items())]


def fold_conv_biases(state: StateDict, under: str = 'decode_head.') -> int:
    """Fold each ``X.conv.bias`` under ``under`` into ``X.bn.running_mean``.

    BN(conv(x) + b) with running mean m equals BN(conv(x)) with running
    mean m - b, and batch statistics cancel b: the reference's biased
    convs in front of a BatchNorm become mmseg's bias-free ``ConvModule``
    exactly.  Returns how many were folded.
    """
    folded = [k for k in state
              if k.startswith(under) and k.endswith('.conv.bias')]
    for key in folded:
        mean = key[:-len('conv.bias')] + 'bn.running_mean'
        if mean not in state:
            raise KeyError(f'{key}: no BatchNorm running mean to fold the '
                           f'bias into ({mean})')
        state[mean] = state[mean] - state.pop(key)
    return len(folded)


def count_kept(state: StateDict, report: ConversionReport) -> None:
    for key in state:
        prefix = key.split('.', 1)[0]
        prefix = prefix if prefix in MODEL_PARTS else '(backbone, bare)'
        report.kept[prefix] = report.kept.get(prefix, 0) + 1


def unwrap(state: dict) -> Tuple[dict, Optional[str]]:
    """The tensors of a checkpoint that keeps them under ``model`` (the
    reference ImageNet release, Swin's training code) or ``state_dict``."""
    for key in ('state_dict', 'model'):
        inner = state.get(key)
        if isinstance(inner, dict) and not any(
                isinstance(v, torch.Tensor) for v in state.values()):
            return inner, key
    return state, None


# ---------------------------------------------------------------- hooks


def _sub_state(state: dict, prefix: str) -> dict:
    if not prefix:
        return dict(state)
    n = len(prefix)
    return {k[n:]: v for k, v in state.items() if k.startswith(prefix)}


def _apply(state: dict, prefix: str, backbone: nn.Module, whole_model: bool,
           where: str, log: bool) -> Optional[ConversionReport]:
    """Adapt, in place, the keys of ``state`` under ``prefix`` with
    ``backbone``'s family filter."""
    sub = _sub_state(state, prefix)
    sub, unwrapped = unwrap(sub)
    filter_fn = type(backbone).checkpoint_filter
    # a whole model's checkpoint given to a bare backbone (init_cfg without
    # ``prefix``): read it as a whole model, keep its backbone
    from_whole = not whole_model and 'backbone' not in backbone._modules \
        and any(k.startswith('backbone.') for k in sub)
    new, report = filter_fn(sub, backbone, whole_model or from_whole)
    if from_whole:
        kept = {}
        for key, value in new.items():
            if key.startswith('backbone.'):
                kept[key[len('backbone.'):]] = value
            else:
                report.drop('not part of the backbone (whole-model '
                            'checkpoint loaded into a backbone)', key)
        new = kept
        report.kept = {}
        count_kept(new, report)
        unwrapped = unwrapped or 'backbone.'
    report.unwrapped = unwrapped
    if not report.changed:
        return None
    for key in [k for k in state if k.startswith(prefix)]:
        del state[key]
    state.update({prefix + k: v for k, v in new.items()})
    if log:
        from mmengine.logging import print_log
        print_log(f'{type(backbone).__name__}: adapted the checkpoint loaded '
                  f'into {where}\n' + report.summary(), logger='current',
                  level=logging.WARNING if report.warning else logging.INFO)
    return report


def backbone_load_pre_hook(backbone, state_dict, prefix, *args) -> None:
    """``state_dict`` load pre-hook of every backbone of this package: the
    keys under its own prefix, as a bare backbone's."""
    _apply(state_dict, prefix, backbone, False,
           f'the backbone ({prefix or "root"})', True)


#: The classification head of the reference ImageNet classifiers, kept
#: beside the backbone's keys: at the root in HRFormer's ``cls/models/hrt.py``
#: (and HRNet's ImageNet release), under ``head.`` in the public HRViT code.
_REFERENCE_CLS_HEAD = re.compile(
    r'^(head\.)?(incre_modules|downsamp_modules|final_layer|classifier)\.')


def relocate_reference_classifier(state: dict, prefix: str,
                                  parent: nn.Module) -> bool:
    """Move, in place, a reference ImageNet classifier's keys (backbone
    at the root, head beside it) to where an mmpretrain ``ImageClassifier``
    with an :class:`~hrformer_mm.models.necks.HRClassificationNeck` keeps
    them: ``backbone.*``, ``neck.*`` (``incre_modules``,
    ``downsamp_modules``, ``final_layer``) and ``head.fc.*`` (the linear
    ``classifier``), or, where the backbone's family reads it into a host's
    own neck (its ``reference_classifier_layout``, e.g. HRNet into
    mmpretrain's ``HRFuseScales``), where that puts them.  The backbone's
    keys are then adapted by its family's filter like any whole model's.
    Returns whether anything moved."""
    from ..necks.hr_classification import HRClassificationNeck
    family_layout = getattr(type(parent._modules.get('backbone')),
                            'reference_classifier_layout', None)
    layout = family_layout(parent) if family_layout else None
    if layout is None and not isinstance(getattr(parent, 'neck', None),
                                         HRClassificationNeck):
        return False
    sub, _ = unwrap(_sub_state(state, prefix))
    sub = strip_module(sub)
    if any(k.startswith(('backbone.', 'neck.')) for k in sub) or not any(
            _REFERENCE_CLS_HEAD.match(k) for k in sub):
        return False
    if layout is not None:
        moved = layout(sub)
    else:
        moved = {}
        for key, value in sub.items():
            m = _REFERENCE_CLS_HEAD.match(key)
            if m is None:
                moved['backbone.' + key] = value
            elif m.group(2) == 'classifier':
                moved['head.fc.' + key[m.end():]] = value
            else:
                moved['neck.' + key[len(m.group(1) or ''):]] = value
    for key in [k for k in state if k.startswith(prefix)]:
        del state[key]
    state.update({prefix + k: v for k, v in moved.items()})
    return True


def _parent_load_pre_hook(parent, state_dict, prefix, *args,
                          child: str = 'backbone') -> None:
    from .base import MultiResolutionBackbone
    backbone = parent._modules.get(child)
    if not isinstance(backbone, MultiResolutionBackbone):
        return
    relocate_reference_classifier(state_dict, prefix, parent)
    _apply(state_dict, prefix, backbone, True,
           f'the model ({prefix or "root"}, backbone and heads)', True)


class _ParentHook:
    """The parent hook bound to its child's name; picklable, and
    recognisable so that it is registered once per parent."""

    def __init__(self, child: str):
        self.child = child

    def __call__(self, parent, state_dict, prefix, *args) -> None:
        _parent_load_pre_hook(parent, state_dict, prefix, *args,
                              child=self.child)


def on_module_registration(parent: nn.Module, name: str,
                           child: Optional[nn.Module]) -> None:
    """Global module-registration hook: give the parent of a backbone
    assigned as ``backbone`` the parent load pre-hook (once)."""
    from .base import MultiResolutionBackbone
    if name != 'backbone' or not isinstance(child, MultiResolutionBackbone):
        return None
    hooks = getattr(parent, '_load_state_dict_pre_hooks', {})
    if any(isinstance(getattr(h, 'hook', h), _ParentHook)
           for h in hooks.values()):
        return None
    parent._register_load_state_dict_pre_hook(_ParentHook(name),
                                              with_module=True)
    return None


@functools.lru_cache(maxsize=None)
def install_registration_hook() -> None:
    """Register :func:`on_module_registration` with torch, once."""
    nn.modules.module.register_module_module_registration_hook(
        on_module_registration)


def adapt_state_dict_for_model(model: nn.Module, state: StateDict) -> dict:
    """``state`` as the load pre-hooks hand it to ``model``'s modules
    (without logging): for checks that compare a checkpoint with a model
    before loading it."""
    from .base import MultiResolutionBackbone
    state = dict(state)
    for name, module in model.named_modules():
        if not isinstance(module, MultiResolutionBackbone):
            continue
        parent, _, child = name.rpartition('.')
        if child == 'backbone':
            relocate_reference_classifier(
                state, parent + '.' if parent else '',
                model.get_submodule(parent))
            _apply(state, parent + '.' if parent else '', module, True, '',
                   False)
        _apply(state, name + '.' if name else '', module, False, '', False)
    return state


# ------------------------------------------------------------- offline

#: ``src`` values of :func:`convert_checkpoint` (besides ``'auto'``)
SOURCES = ('official', 'mmpose', 'hrnet', 'hrvit')


def detect_source(state: StateDict) -> str:
    """'official' for the reference HRFormer release's key scheme, 'mmpose'
    for mmpose's HRFormer (which this package shares), 'hrnet' for an HRNet
    (mmpose's, mmseg's, mmdet's or the reference release), 'hrvit' for the
    public HRViT code's."""
    from .hrformer_weights import is_hrformer_reference
    from .hrnet_weights import is_hrnet
    from .hrvit_weights import is_hrvit_reference
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
    from .hrformer_weights import hrformer_checkpoint_filter
    from .hrnet_weights import hrnet_checkpoint_filter
    from .hrvit_weights import hrvit_checkpoint_filter
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
