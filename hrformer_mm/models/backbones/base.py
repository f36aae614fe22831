"""The shared plumbing of this package's multi-resolution backbones.

:class:`MultiResolutionBackbone` is what every one of them does the same way
(HRFormer, HRNet, HRViT): option checks, input checks, default
initialisation, arch-zoo lookup, ``frozen_stages`` and ``norm_eval``.

:class:`HRNetLayoutBackbone` adds HRNet's layout, which HRFormer shares and
HRViT does not: a stem of two 3x3 stride-2 convs to 1/4 resolution, a stage 1
of bottlenecks, then stages 2-4 that each open one more stream through a
transition and run ``HighResolutionModule`` s.  Subclasses say what a branch
of stages 2-4 is (HRNet: BasicBlocks; HRFormer: transformer blocks) and how
the fusion resamples.  Attribute names (``conv1``, ``bn1``, ``layer1``,
``transition{n}``, ``stage{n}``) are mmpose's and mmseg's.
"""
import functools
import logging
import re
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmcv.cnn.utils import fuse_conv_bn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch.nn.modules.batchnorm import _BatchNorm

from ..layers import (Bottleneck, HighResolutionModule, MultiResolutionFusion,
                      apply_transition, fuse_conv_activations, make_res_layer,
                      make_transition)
from ..necks.hr_classification import HRClassificationNeck
from .eager_sync_bn import keep_sync_batchnorm_eager
from .weights import (ConversionReport, StateDict, count_kept, strip_module,
                      sub_state, unwrap)

__all__ = ['MultiResolutionBackbone', 'HRNetLayoutBackbone',
           'compile_repeated_blocks', 'warn_renamed', 'rename_keys',
           'branch_block_counts',
           'adapt_state_dict_for_model', 'relocate_reference_classifier']

STEM_CHANNELS = 64


#: the least recompile limit :func:`compile_repeated_blocks` sets
RECOMPILE_LIMIT = 64


def compile_repeated_blocks(root: nn.Module, classes: Tuple[type, ...],
                            **compile_kwargs) -> int:
    """``torch.compile`` every submodule of ``root`` that is an instance of
    ``classes``, in place, each on its own (regional compilation); returns
    how many.  ``dynamic`` defaults to False, the compiler's recompile
    limit is raised to :data:`RECOMPILE_LIMIT` if lower, and SyncBN in the
    blocks synchronises outside the graphs (see
    :meth:`MultiResolutionBackbone.compile_blocks`)."""
    compile_kwargs = {'dynamic': False, **compile_kwargs}
    _raise_recompile_limit(RECOMPILE_LIMIT)
    blocks = [m for m in root.modules() if isinstance(m, classes)]
    for m in blocks:
        keep_sync_batchnorm_eager(m)
        m.compile(**compile_kwargs)
    return len(blocks)


def _raise_recompile_limit(limit: int) -> None:
    """The compiler's per-function recompile limit, at least ``limit``
    (named ``recompile_limit`` from torch 2.7, ``cache_size_limit``
    before)."""
    import torch._dynamo.config as dynamo_config
    name = 'recompile_limit' if hasattr(dynamo_config, 'recompile_limit') \
        else 'cache_size_limit'
    if getattr(dynamo_config, name) < limit:
        setattr(dynamo_config, name, limit)


def warn_renamed(old: str, new: str, depth: int = 1) -> None:
    """Warn (``FutureWarning``, which end users see) that ``old`` is the
    deprecated spelling of ``new``, pointing ``depth`` frames above the
    caller (1: the caller's caller)."""
    warnings.warn(f'{old} is deprecated and will be removed; use {new}',
                  FutureWarning, stacklevel=2 + depth)


def rename_keys(mapping: dict, renamed: Dict[str, str], what: str,
                depth: int = 1) -> dict:
    """``mapping`` with each deprecated key of ``renamed`` (old -> current)
    spelt the current way, warning once per key found (``what`` names the
    kind of key in the message, ``depth`` where it points as in
    :func:`warn_renamed`); both spellings at once is an error."""
    mapping = dict(mapping)
    for old, new in renamed.items():
        if old not in mapping:
            continue
        if new in mapping:
            raise ValueError(f'{what} "{old}" is the deprecated spelling of '
                             f'"{new}"; give only "{new}"')
        warn_renamed(f'{what} "{old}"', f'"{new}"', depth=depth + 1)
        mapping[new] = mapping.pop(old)
    return mapping


def branch_block_counts(num_blocks) -> List[Tuple[int, ...]]:
    """Blocks per branch of stages 2-4 (2 / 3 / 4 branches) from an arch's
    ``num_blocks``: one number for all, one per stage, or per stage one per
    branch."""
    if isinstance(num_blocks, int):
        num_blocks = (num_blocks, ) * 3
    if len(num_blocks) != 3:
        raise ValueError(f'arch["num_blocks"] needs one number or 3 (stages '
                         f'2-4), got {num_blocks}')
    counts = []
    for s, n in zip((2, 3, 4), num_blocks):
        if not isinstance(n, int) and len(n) != s:
            raise ValueError(f'arch["num_blocks"] of stage {s} needs one '
                             f'number or {s} (one per branch), got {n}')
        counts.append((n, ) * s if isinstance(n, int) else tuple(n))
    return counts


class MultiResolutionBackbone(BaseModule):
    """What every multi-resolution backbone of this package does the same
    way: option checks, input checks, default initialisation, arch-zoo
    lookup, ``frozen_stages`` and ``norm_eval``.

    Subclasses call :meth:`_set_options` and list what ``frozen_stages``
    freezes in :meth:`_frozen_modules`.
    """

    #: named variants (subclasses fill it) and the keys they may leave out
    arch_zoo: Dict[str, dict] = {}
    arch_defaults: dict = {}
    #: deprecated arch keys a released config used: old name -> current
    renamed_arch_keys: Dict[str, str] = {}

    in_channels: int
    out_indices: tuple
    frozen_stages: int
    norm_eval: bool

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        # every way mmengine loads weights ends in load_state_dict: this is
        # where other releases' checkpoints are read (see the end of
        # this module)
        self._register_load_state_dict_pre_hook(backbone_load_pre_hook,
                                                with_module=True)

    @staticmethod
    def checkpoint_filter(state, backbone=None, whole_model=None):
        """``(state, report)`` in this backbone's key scheme; families
        with other releases to read override it (``*_weights.py``)."""
        return state, ConversionReport(source='hrformer_mm')

    def _set_options(self, in_channels: int, out_indices: Sequence[int],
                     num_streams: int, frozen_stages: int, num_stages: int,
                     norm_eval: bool) -> None:
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(num_streams)
                                  for i in out_indices):
            raise ValueError(f'out_indices must be a non-empty subset of '
                             f'0..{num_streams - 1}, got {out_indices}')
        if frozen_stages not in range(-1, num_stages + 1):
            raise ValueError(f'frozen_stages must be in -1..{num_stages}, '
                             f'got {frozen_stages}')
        self.in_channels = in_channels
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

    @classmethod
    def _arch_from_zoo(cls, arch: Union[str, dict],
                       required: Sequence[str]) -> dict:
        """``arch`` looked up in :attr:`arch_zoo` (or given as a dict),
        completed with :attr:`arch_defaults`."""
        name = cls.__name__
        if isinstance(arch, str):
            if arch not in cls.arch_zoo:
                raise KeyError(f'unknown {name} arch "{arch}"; choose from '
                               f'{sorted(cls.arch_zoo)} or pass a dict')
            arch = cls.arch_zoo[arch]
        arch = rename_keys(arch, cls.renamed_arch_keys, f'{name} arch key',
                           depth=3)
        missing = set(required) - set(arch)
        if missing:
            raise KeyError(f'{name} arch dict lacks {sorted(missing)}')
        return {**cls.arch_defaults, **arch}

    def _default_init(self, conv_init: bool = True) -> None:
        """Linears truncated normal (std 0.02), norms to identity, convs
        Kaiming (fan out) unless ``conv_init`` is off; biases zero."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Conv2d) and conv_init:
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (_BatchNorm, nn.GroupNorm, nn.LayerNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _check_input(self, x: torch.Tensor) -> None:
        name = type(self).__name__
        if x.dim() != 4:
            raise ValueError(f'{name} expects a (N, C, H, W) batch, got a '
                             f'tensor of shape {tuple(x.shape)}')
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'{name} was built for {self.in_channels}-channel input but '
                f'got {x.shape[1]} channels (shape {tuple(x.shape)}); convert '
                f'the images (e.g. RGBA -> RGB) or set in_channels')

    def _frozen_modules(self) -> List[nn.Module]:
        raise NotImplementedError

    #: the repeated block classes :meth:`compile_blocks` compiles
    compile_units: Tuple[type, ...] = ()
    #: how many blocks :meth:`compile_blocks` compiled (0: none)
    compiled_blocks: int = 0

    def compile_blocks(self, **compile_kwargs) -> int:
        """Compile every repeated block in place, one ``torch.compile`` per
        block (regional compilation); returns how many.

        Blocks of one class see inputs of one shape per stream, so the
        compiler traces and optimises each stream's block once and every
        other block of that stream reuses the code with its own weights
        (the compiler treats module parameters and buffers as inputs): a
        handful of small graphs instead of one graph of the whole network,
        which compiles in a fraction of the time and keeps the stem,
        transitions and fusions eager.  ``compile_kwargs`` go to
        ``torch.compile`` (``backend``, ``mode``: 'reduce-overhead' adds
        CUDA graphs, ...); ``dynamic`` defaults to False, static shapes
        being what the fastest kernels and CUDA graphs need (a new batch
        size compiles once more).  State-dict keys do not change, so
        checkpoints load either way.  The compiler's recompile limit is
        raised to :data:`RECOMPILE_LIMIT` if lower, since a training run
        needs one graph per stream for training, evaluation and each batch
        size.

        SyncBN layers inside the blocks become :class:`.EagerSyncBatchNorm`:
        with more than one rank their synchronising forward runs eagerly
        between the compiled pieces of a block (a few graphs per stream in
        training instead of one), never inside a graph.
        """
        if not self.compile_units:
            raise NotImplementedError(
                f'{type(self).__name__} names no blocks to compile')
        self.compiled_blocks = compile_repeated_blocks(
            self, self.compile_units, **compile_kwargs)
        return self.compiled_blocks

    def keep_sync_batchnorm_eager(self) -> int:
        """Make the SyncBN layers of the compiled blocks synchronise outside
        the graphs again, after something replaced the blocks' norms
        (mmengine's ``sync_bn`` option converts every BN, SyncBN included,
        to a new ``nn.SyncBatchNorm`` once the model is built); returns how
        many were swapped."""
        if not self.compiled_blocks:
            return 0
        return sum(keep_sync_batchnorm_eager(m) for m in self.modules()
                   if isinstance(m, self.compile_units))

    def _freeze_stages(self) -> None:
        for m in self._frozen_modules():
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def _apply_compile_cfg(self, compile_cfg: Optional[dict]) -> None:
        """The ``compile_cfg`` constructor option: None leaves the model
        eager, a dict (``{}`` for the defaults) is passed to
        :meth:`compile_blocks`."""
        if compile_cfg is None:
            return
        if not isinstance(compile_cfg, dict):
            raise TypeError(f'compile_cfg must be None or a dict of '
                            f'torch.compile options, got {compile_cfg!r}')
        n = self.compile_blocks(**compile_cfg)
        print_log(f'{type(self).__name__}: compiled {n} blocks one by one '
                  f'(torch.compile options {compile_cfg}); the first calls '
                  f'of each shape compile', logger='current')

    def switch_to_deploy(self) -> 'MultiResolutionBackbone':
        """Fold every BatchNorm into the convolution before it (stem,
        stage 1, transitions, fusion, FFN) for inference; the BN layers
        become ``nn.Identity``.  Then each convolution directly followed by
        its activation becomes a :class:`Conv2dAct`, one oneDNN kernel on
        CPU (the FFN's three conv -> GELU, the transitions' and fusion's
        conv -> ReLU).  Outputs equal the eval-mode model's up to fp32
        rounding; state-dict keys are unchanged (the BN entries go).  One
        way: a deployed model cannot be trained."""
        self.eval()
        fuse_conv_bn(self)
        left = [n for n, m in self.named_modules()
                if isinstance(m, _BatchNorm)]
        if left:  # a BN whose conv is not its preceding sibling
            raise RuntimeError(f'BatchNorm layers not folded: {left}')
        self.num_fused_activations = fuse_conv_activations(self)
        self.deploy = True
        return self

    def fuse(self) -> 'MultiResolutionBackbone':
        """Deprecated name of :meth:`switch_to_deploy`."""
        warn_renamed(f'{type(self).__name__}.fuse()', 'switch_to_deploy()')
        return self.switch_to_deploy()

    def train(self, mode: bool = True) -> 'MultiResolutionBackbone':
        if mode and getattr(self, 'deploy', False):
            raise RuntimeError(f'this {type(self).__name__} was switched to '
                               f'deploy mode (BatchNorm folded); build a new '
                               f'one to train')
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


class HRNetLayoutBackbone(MultiResolutionBackbone):
    """Base of the HRNet-layout backbones (stream ``i`` at 1 / 2**(i+2)).

    Args:
        in_channels: input image channels.
        out_indices: streams to return (0 = 1/4 resolution), a non-empty
            subset of 0..3.  The last module fuses only into the streams up
            to ``max(out_indices)``, so ``(0,)`` is mmpose's
            ``multiscale_output=False``.
        frozen_stages: -1 freezes nothing, 0 the stem, ``n`` also stage
            1..n (with their transitions).
        norm_eval: keep BatchNorm statistics frozen in training.
    """

    def __init__(self,
                 in_channels: int = 3,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self._set_options(in_channels, out_indices, 4, frozen_stages, 4,
                          norm_eval)

    @property
    def norm1(self) -> nn.Module:
        """The stem's first norm under the hosts' name (mmpose's, mmseg's
        and mmpretrain's HRNet call ``bn1`` so)."""
        return self.bn1

    @property
    def norm2(self) -> nn.Module:
        """The stem's second norm under the hosts' name."""
        return self.bn2

    def _build_stem_and_stage1(self, stage1_channels: int, stage1_blocks: int,
                               conv_cfg: dict, norm_cfg: dict,
                               with_cp: bool = False,
                               block: type = Bottleneck) -> List[int]:
        """Adds ``conv1``/``bn1``/``conv2``/``bn2`` and ``layer1`` (residual
        ``block`` s); returns the channels of stage 1's single stream."""
        self.conv1 = build_conv_layer(conv_cfg, self.in_channels,
                                      STEM_CHANNELS, 3, stride=2, padding=1,
                                      bias=False)
        self.bn1 = build_norm_layer(norm_cfg, STEM_CHANNELS)[1]
        self.conv2 = build_conv_layer(conv_cfg, STEM_CHANNELS, STEM_CHANNELS,
                                      3, stride=2, padding=1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, STEM_CHANNELS)[1]
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = make_res_layer(block, STEM_CHANNELS,
                                     stage1_channels, stage1_blocks,
                                     conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                     with_cp=with_cp)
        return [stage1_channels * block.expansion]

    def _build_stages(self, channels: Sequence[int],
                      num_modules: Sequence[int], pre_channels: List[int],
                      make_branches: Callable[[int, int, List[int]],
                                              List[nn.Module]],
                      conv_cfg: dict, norm_cfg: dict, downsample: str,
                      upsample_cfg: dict) -> None:
        """Adds ``transition{1,2,3}`` and ``stage{2,3,4}``.

        Stage ``s`` runs ``num_modules[s - 2]`` modules over the first ``s``
        of ``channels`` (one width per stream), or over ``channels[s - 2]``
        where ``channels`` gives each of stages 2-4 its own widths (the
        transitions then change a stream's width between stages); module
        ``m`` (0-based within its stage) is the branches
        ``make_branches(s, m, stage_channels)`` returns, then a
        :class:`MultiResolutionFusion` with ``downsample`` and
        ``upsample_cfg``.  The very last fusion stops at the highest stream
        returned, so ``out_indices=(0,)`` is mmpose's
        ``multiscale_output=False``.
        """
        per_stage = isinstance(channels[0], (list, tuple))
        for stage, stage_modules in zip((2, 3, 4), num_modules):
            stage_channels = list(channels[stage - 2] if per_stage
                                  else channels[:stage])
            self.add_module(f'transition{stage - 1}',
                            make_transition(pre_channels, stage_channels,
                                            conv_cfg, norm_cfg))
            modules = []
            for module in range(stage_modules):
                branches = make_branches(stage, module, stage_channels)
                last = stage == 4 and module == stage_modules - 1
                out_channels = stage_channels[:max(self.out_indices) + 1] \
                    if last else stage_channels
                fuse = MultiResolutionFusion(
                    stage_channels, out_channels, downsample=downsample,
                    upsample_cfg=upsample_cfg, conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg)
                modules.append(HighResolutionModule(branches, fuse))
            self.add_module(f'stage{stage}', nn.Sequential(*modules))
            pre_channels = stage_channels
        self.out_channels = tuple(pre_channels[i] for i in self.out_indices)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        self._check_input(x)
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        features = [self.layer1(x)]
        for stage in (2, 3, 4):
            features = apply_transition(
                getattr(self, f'transition{stage - 1}'), features)
            features = getattr(self, f'stage{stage}')(features)
        return tuple(features[i] for i in self.out_indices)

    def _frozen_modules(self) -> List[nn.Module]:
        if self.frozen_stages < 0:
            return []
        modules = [self.conv1, self.bn1, self.conv2, self.bn2]
        for i in range(1, self.frozen_stages + 1):
            modules.append(self.layer1 if i == 1 else
                           getattr(self, f'stage{i}'))
            if i < 4:
                modules.append(getattr(self, f'transition{i}'))
        return modules


# -- checkpoints of other releases ------------------------------------------
#
# Every way mmengine loads weights (``load_from``, ``init_cfg=dict(type=
# 'Pretrained')``, ``tools/test.py CONFIG CKPT``, ``init_model``) ends in
# ``load_state_dict``; two load pre-hooks hand the keys to the backbone
# class's ``checkpoint_filter`` (each family names its own, ``*_weights.py``).
#
# Why two.  ``torch.nn.Module.load_state_dict`` and mmengine's
# ``load_state_dict`` hand each child only the keys under its own prefix, so
# a backbone's hook never sees the head keys of a whole-model checkpoint
# (``keypoint_head.*``, the reference segmentation heads).  Hence the
# *backbone* hook adapts the keys under the backbone's prefix (a
# backbone-only checkpoint), and the *parent* hook, put on whatever module
# holds a backbone as its ``backbone`` child (the host's pose estimator,
# segmentor, detector, classifier), sees the whole model's keys, adapts the
# backbone's and its siblings' keys in one go, and runs before the parent
# lists unexpected keys, so renamed keys are never reported as unexpected
# and keys nobody renamed still are.  The backbone's own hook then finds its
# keys in our scheme and does nothing.  The parent hook is put on the parent
# when the backbone is assigned to it (a global module-registration hook,
# torch's one way to learn a module's parent: a process-wide hook, which
# acts only on modules that take one of these backbones as ``backbone``).
# Both hooks are no-ops on state dicts already in our scheme (our own
# checkpoints, ``--resume``): a scan of the key names, nothing copied,
# nothing logged.


def _apply(state: dict, prefix: str, backbone: nn.Module, whole_model: bool,
           where: str, log: bool) -> Optional[ConversionReport]:
    """Adapt, in place, the keys of ``state`` under ``prefix`` with
    ``backbone``'s family filter."""
    sub = sub_state(state, prefix)
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
    family_layout = getattr(type(parent._modules.get('backbone')),
                            'reference_classifier_layout', None)
    layout = family_layout(parent) if family_layout else None
    if layout is None and not isinstance(getattr(parent, 'neck', None),
                                         HRClassificationNeck):
        return False
    sub, _ = unwrap(sub_state(state, prefix))
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


install_registration_hook()
