"""Checkpoint helpers shared by the backbone families.

Each family keeps the function that reads other releases' checkpoints next
to its model (``hrformer_weights``, ``hrnet_weights``, ``hrvit_weights``),
as timm keeps a ``checkpoint_filter_fn`` beside each model, and each
backbone class names its own (``checkpoint_filter``).  This module holds
what those functions share: the report, the state-dict unwrapping and the
tensor reshuffles.  It imports nothing else of the package, so the family
modules and the classes build on it without a circle; the load pre-hooks
that call the classes' filters live with the classes (``base.py``), the
offline conversion in ``convert.py``.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['ConversionReport', 'StateDict', 'CheckpointFilter',
           'MODEL_PARTS', 'strip_module', 'unwrap', 'sub_state',
           'resize_relative_position_bias_table', 'resize_tables',
           'fold_conv_biases', 'count_kept']

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


def sub_state(state: dict, prefix: str) -> dict:
    """The entries of ``state`` under ``prefix``, with the prefix removed."""
    if not prefix:
        return dict(state)
    n = len(prefix)
    return {k[n:]: v for k, v in state.items() if k.startswith(prefix)}
