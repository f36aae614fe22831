"""The hosts' ``extra=dict(stage1=..., stage4=...)`` form of HRNet and
HRFormer, translated into this package's ``arch`` dict and options.

mmpose's, mmseg's, mmdet's and mmpretrain's ``HRNet`` and mmpose's
``HRFormer`` describe the network as four stage dicts (``num_modules``,
``num_branches``, ``block``, ``num_blocks``, ``num_channels``, and for
HRFormer ``num_heads``, ``mlp_ratios``, ``window_sizes``) plus a few
top-level keys.  :func:`translate_extra` reads that form once for both
backbones, so a host config switches to ``hrformer_mm.HRNet`` /
``hrformer_mm.HRFormer`` by its ``type`` alone.  HRNet takes all of it:
either block type in any stage, widths that change between stages, a
block count per branch.  HRFormer takes what mmpose's builds: transformer
blocks in stages 2-4, one width, head count, window and MLP ratio per
stream.  Anything else is refused with the key that says it, never
approximated.

Where a stream changes width between stages 2 and 3 or 3 and 4, mmpose's,
mmseg's and mmdet's forward feeds that stream's transition the
lowest-resolution stream instead of its own (and fails on the shapes);
mmpretrain's feeds it its own, and so does this package in every scope.

The hosts check the form with ``assert`` (mmseg, mmdet, mmpretrain) or
``ValueError`` (mmpose); a malformed form raises :class:`ExtraFormError` /
:class:`ExtraKeyError` here, which are both, so code (and the hosts' own
tests) written against either host catches them.

The four hosts' ``HRNet`` differ where the form is silent; the host is the
config's: mmengine's current default scope (``default_scope`` of a config,
which every host runner and ``init_model`` / ``init_detector`` set).
"""
import inspect
from typing import Dict, List, Optional, Sequence

import torch.nn as nn
from mmengine.registry import DefaultScope

from ..layers import BasicBlock, Bottleneck

__all__ = ['HOSTS', 'ExtraFormError', 'ExtraKeyError', 'current_host',
           'translate_extra', 'changed_options', 'options_from_extra',
           'split_arch_and_extra', 'pretrained_init_cfg',
           'is_pretrained_init', 'zero_init_residual_norms']

HOSTS = ('mmpose', 'mmseg', 'mmdet', 'mmpretrain')


class ExtraFormError(ValueError, AssertionError):
    """A host ``extra`` dict this package cannot build, or a malformed one
    (a ``ValueError`` as mmpose raises, an ``AssertionError`` as mmseg's,
    mmdet's and mmpretrain's checks raise)."""


class ExtraKeyError(KeyError, AssertionError):
    """A stage dict or key missing from, or unknown to, the ``extra`` form
    (mmseg, mmdet and mmpretrain assert that every stage is there)."""

# What each host's HRNet does where its ``extra`` says nothing.
#   upsample: the fusion's low -> high resampling (mmseg: bilinear by the
#     fixed factor, then a bilinear resize to the target stream; mmpose and
#     mmdet: nearest by the factor);
#   multiscale: whether the last module fuses into every stream (mmpose reads
#     ``extra['stage4']['multiscale_output']``, default False; mmseg, mmdet
#     and mmpretrain take a ``multiscale_output`` argument, default True, and
#     ignore the stage-4 key);
#   norm_eval: mmdet's HRNet keeps BatchNorm statistics frozen by default.
# mmpretrain's HRNet is mmdet's without the frozen statistics.
HRNET_HOST_DEFAULTS = {
    'mmpose': dict(upsample_mode='nearest', multiscale=False,
                   norm_eval=False),
    'mmseg': dict(upsample_mode='bilinear', multiscale=True,
                  norm_eval=False),
    'mmdet': dict(upsample_mode='nearest', multiscale=True, norm_eval=True),
    'mmpretrain': dict(upsample_mode='nearest', multiscale=True,
                       norm_eval=False),
}

STAGES = ('stage1', 'stage2', 'stage3', 'stage4')
_STAGE_KEYS = ('num_modules', 'num_branches', 'block', 'num_blocks',
               'num_channels')
# Per-stream keys of HRFormer's stages 2-4 and the arch keys they become.
_TRANSFORMER_KEYS = {'num_heads': 'num_heads', 'mlp_ratios': 'mlp_ratios',
                     'window_sizes': 'window_sizes'}
# mmpose's released HRFormer configs carry transformer keys in stage 1,
# which mmpose ignores (stage 1 is bottlenecks).
_IGNORED_STAGE1_KEYS = ('num_heads', 'mlp_ratios', 'num_mlp_ratios',
                        'window_sizes')
# mmpose's HRFormer writes these into the stage dicts of the ``extra`` it is
# given (so a config dict that built one carries them) and overwrites them
# from ``drop_path_rate`` on every build.
_IGNORED_TRANSFORMER_STAGE_KEYS = ('drop_path_rates', )

_FAMILIES = {
    # blocks of stage 1, blocks of stages 2-4, per-stream keys, top-level
    # keys besides stages (what the hosts' blocks_dict accept)
    'HRNet': (('BOTTLENECK', 'BASIC'), ('BASIC', 'BOTTLENECK'), {},
              ('upsample', )),
    'HRFormer': (('BOTTLENECK', ), ('HRFORMERBLOCK', ), _TRANSFORMER_KEYS,
                 ('upsample', 'drop_path_rate', 'with_rpe', 'with_pad_mask')),
}


def current_host(name: str) -> str:
    """The host whose config is being built: mmengine's current default
    scope, which must be one of :data:`HOSTS`."""
    scope = DefaultScope.get_current_instance()
    scope = None if scope is None else scope.scope_name
    if scope not in HOSTS:
        raise ValueError(
            f'{name}(extra=...) computes what the host library of its config '
            f'computes, and the host is recognised from mmengine\'s default '
            f'scope, which is {scope!r} here, not one of {HOSTS}: build it '
            f'under a config\'s default_scope (runner, init_model, '
            f'init_default_scope) or use {name}(arch=...) with explicit '
            f'options')
    return scope


def changed_options(cls: type, **values) -> List[str]:
    """Which of ``values`` differ from the defaults of ``cls.__init__``
    (sequences compared as tuples, so a config's lists count as equal)."""
    defaults = inspect.signature(cls.__init__).parameters
    changed = []
    for name, value in values.items():
        default = defaults[name].default
        if isinstance(value, (list, tuple)) and isinstance(default,
                                                           (list, tuple)):
            value, default = tuple(value), tuple(default)
        if value != default:
            changed.append(name)
    return changed


def _check_keys(where: str, given, known: Sequence[str]) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ExtraKeyError(f'{where}: unknown keys {unknown}; known: '
                            f'{sorted(known)}')


def _per_stream(extra: dict, key: str, family: str) -> tuple:
    """A per-stream value of stages 2-4 as one tuple of 4, checking that
    every stage repeats the values of the streams it shares with stage 4
    (this package keeps one width, head count, ... per stream)."""
    full = tuple(extra['stage4'][key])
    for s in (2, 3):
        values = tuple(extra[f'stage{s}'][key])
        if values != full[:s]:
            raise ExtraFormError(
                f"extra['stage{s}']['{key}'] = {values} differs from the "
                f"first {s} of extra['stage4']['{key}'] = {full}: "
                f'hrformer_mm.{family} keeps each stream\'s {key} from stage '
                f'to stage')
    return full


def _compact(per_stage: List[tuple]):
    """Per-stage, per-branch values as the arch's shortest spelling: one
    number where every branch of every stage agrees, else one entry per
    stage, a number where the branches of that stage agree."""
    stages = tuple(v[0] if len(set(v)) == 1 else tuple(v) for v in per_stage)
    if len(set(stages)) == 1 and isinstance(stages[0], int):
        return stages[0]
    return stages


def _stage_arch(extra: dict, family: str) -> dict:
    stage1_blocks, blocks, per_stream, _ = _FAMILIES[family]
    s1 = extra['stage1']
    _check_keys("extra['stage1']", s1, _STAGE_KEYS + (
        _IGNORED_STAGE1_KEYS if family == 'HRFormer' else ()))
    if s1.get('block') not in stage1_blocks:
        raise ExtraFormError(
            f"extra['stage1']['block'] = {s1.get('block')!r}: the host's "
            f'{family} builds stage 1 from {list(stage1_blocks)} blocks')
    if s1['num_modules'] != 1 or s1['num_branches'] != 1 or \
            len(s1['num_blocks']) != 1 or len(s1['num_channels']) != 1:
        raise ExtraFormError(
            "extra['stage1'] must have one module of one branch "
            f'(num_modules=1, num_branches=1), got {s1}')
    arch = dict(stage1_blocks=s1['num_blocks'][0],
                stage1_channels=s1['num_channels'][0])
    if s1['block'] != stage1_blocks[0]:
        arch['stage1_block'] = s1['block']
    num_modules, num_blocks, widths, block_types = [], [], [], []
    for s in (2, 3, 4):
        cfg = extra[f'stage{s}']
        known = _STAGE_KEYS + tuple(per_stream) + (
            ('multiscale_output', ) if s == 4 else ()) + (
            _IGNORED_TRANSFORMER_STAGE_KEYS if family == 'HRFormer' else ())
        _check_keys(f"extra['stage{s}']", cfg, known)
        missing = sorted(set(_STAGE_KEYS + tuple(per_stream)) - set(cfg))
        if missing:
            raise ExtraKeyError(f"extra['stage{s}'] lacks {missing}")
        if cfg['block'] not in blocks:
            raise ExtraFormError(
                f"extra['stage{s}']['block'] = {cfg['block']!r}: the host's "
                f'{family} builds stages 2-4 from {list(blocks)} blocks '
                f'only')
        if cfg['num_branches'] != s:
            raise ExtraFormError(
                f"extra['stage{s}']['num_branches'] must be {s} (stage {s} "
                f"runs {s} streams), got {cfg['num_branches']}")
        for key in ('num_blocks', 'num_channels') + tuple(per_stream):
            if len(cfg[key]) != s:
                raise ExtraFormError(
                    f"extra['stage{s}']['{key}'] needs {s} values (one per "
                    f'branch), got {cfg[key]}')
        if family == 'HRFormer' and max(cfg['num_blocks']) > \
                cfg['num_blocks'][0]:
            raise ExtraFormError(
                f"extra['stage{s}']['num_blocks'] = {cfg['num_blocks']}: "
                f"mmpose's HRFormer draws each module's drop-path rates for "
                f'as many blocks as branch 0 has, and fails on a branch with '
                f'more')
        num_modules.append(cfg['num_modules'])
        num_blocks.append(tuple(cfg['num_blocks']))
        widths.append(tuple(cfg['num_channels']))
        block_types.append(cfg['block'])
    arch.update(num_modules=tuple(num_modules),
                num_blocks=_compact(num_blocks))
    if family == 'HRFormer':
        arch['channels'] = _per_stream(extra, 'num_channels', family)
        for key, arch_key in per_stream.items():
            arch[arch_key] = _per_stream(extra, key, family)
        return arch
    # one width per stream where no stage changes one, as our zoo says it
    if all(w == widths[-1][:len(w)] for w in widths):
        arch['channels'] = widths[-1]
    else:
        arch['channels'] = tuple(widths)
    if set(block_types) != {blocks[0]}:
        arch['block'] = tuple(block_types)
    return arch


def _upsample(extra: dict, default: dict) -> dict:
    upsample = extra.get('upsample', default)
    _check_keys("extra['upsample']", upsample, ('mode', 'align_corners'))
    mode = upsample.get('mode', default['mode'])
    if mode not in ('nearest', 'bilinear'):
        raise ExtraFormError(f"extra['upsample']['mode'] must be 'nearest' "
                             f"or 'bilinear', got {mode!r}")
    return dict(mode=mode, align_corners=bool(upsample.get('align_corners')))


def translate_extra(family: str, extra: dict,
                    multiscale_output: Optional[bool] = None) -> Dict:
    """Our constructor options for a host's ``extra`` dict.

    Returns ``arch``, ``out_indices`` and ``upsample_cfg`` and, for
    ``family='HRNet'``, ``norm_eval`` (the host's default) and ``host``; for
    ``'HRFormer'`` (mmpose's form whatever the scope: only mmpose has an
    HRFormer) ``drop_path_rate``, ``with_rpe`` and ``with_pad_mask``.
    ``multiscale_output`` is mmseg's, mmdet's and mmpretrain's HRNet
    argument (None: not given).
    """
    if not isinstance(extra, dict):
        raise TypeError(f'extra must be a dict of stage dicts, got '
                        f'{type(extra).__name__}')
    top = _FAMILIES[family][-1]
    _check_keys('extra', extra, STAGES + top)
    missing = [s for s in STAGES if s not in extra]
    if missing:
        raise ExtraKeyError(f'extra lacks {missing}')
    out = dict(arch=_stage_arch(extra, family))
    stage4_key = extra['stage4'].get('multiscale_output')

    if family == 'HRFormer':
        if multiscale_output is not None:
            raise ExtraFormError("HRFormer's hosts' form says "
                                 "multiscale_output in extra['stage4'] "
                                 "(mmpose's), not as an argument")
        multiscale = bool(stage4_key)
        if extra.get('with_pad_mask', False):
            raise ExtraFormError(
                "extra['with_pad_mask']=True: mmpose masks padded tokens only "
                'when both axes are padded (its guard uses `and`), so its '
                'outputs cannot be reproduced with masking that works; use '
                'HRFormer(arch=..., with_pad_mask=True), which masks whenever '
                'either axis is padded')
        up = _upsample(extra, dict(mode='bilinear', align_corners=False))
        out.update(drop_path_rate=extra.get('drop_path_rate', 0.),
                   with_rpe=extra.get('with_rpe', True),
                   with_pad_mask=False,
                   upsample_cfg=dict(mode=up['mode'], by_factor=False,
                                     align_corners=up['align_corners']))
    else:
        host = current_host(family)
        defaults = HRNET_HOST_DEFAULTS[host]
        if host == 'mmpose':
            if multiscale_output is not None and stage4_key is not None \
                    and bool(multiscale_output) != bool(stage4_key):
                raise ExtraFormError(
                    f'multiscale_output={multiscale_output} contradicts '
                    f"extra['stage4']['multiscale_output']={stage4_key}")
            given = stage4_key if multiscale_output is None \
                else multiscale_output
            multiscale = defaults['multiscale'] if given is None \
                else bool(given)
            up = _upsample(extra, dict(mode='nearest', align_corners=False))
            if up['mode'] == 'bilinear' and up['align_corners']:
                raise ExtraFormError(
                    "extra['upsample'] with align_corners=True: "
                    'hrformer_mm.HRNet upsamples bilinearly with '
                    'align_corners=False only')
            mode, by_factor = up['mode'], False
        else:
            if 'upsample' in extra:
                raise ExtraFormError(
                    f"extra['upsample'] is mmpose's key; {host}'s HRNet "
                    f"always upsamples by {defaults['upsample_mode']} "
                    f'interpolation and ignores it')
            multiscale = defaults['multiscale'] if multiscale_output is None \
                else bool(multiscale_output)
            if stage4_key is not None and bool(stage4_key) != multiscale:
                raise ExtraFormError(
                    f"extra['stage4']['multiscale_output']={stage4_key}: "
                    f"{host}'s HRNet ignores this key and takes its "
                    f'multiscale_output argument, here {multiscale}; make '
                    f'them agree')
            mode = defaults['upsample_mode']
            # mmseg resizes after the fixed-factor upsampling, so it also
            # runs (and we match it) where the sizes are no multiple of 32.
            by_factor = host == 'mmseg'
        out.update(upsample_cfg=dict(mode=mode, by_factor=by_factor,
                                     align_corners=False),
                   norm_eval=defaults['norm_eval'], host=host)
    out['out_indices'] = (0, 1, 2, 3) if multiscale else (0, )
    return out


def options_from_extra(cls: type, arch, extra: dict,
                       multiscale_output: Optional[bool],
                       own_options: dict) -> Dict:
    """:func:`translate_extra` for ``cls``, refusing a network described
    twice: ``arch`` (ours) together with ``extra`` (the hosts'), or any of
    ``own_options`` (our names for what ``extra`` says) changed from its
    default."""
    name = cls.__name__
    if arch is not None:
        raise ValueError(f'{name}: arch={arch!r} and extra=... both describe '
                         f'the network (ours and the hosts\' form); give one')
    changed = changed_options(cls, **own_options)
    if changed:
        raise ValueError(
            f'{name}(extra=...): {changed} set what the hosts\' extra= form '
            f'already decides (its stage dicts and keys); with extra= leave '
            f'them out, or describe the network with arch= instead')
    return translate_extra(name, extra, multiscale_output)


def split_arch_and_extra(name: str, arch, extra: Optional[dict]):
    """``(arch, extra)`` with a host ``extra`` dict given in ``arch``'s place
    moved to ``extra``: the hosts' first positional argument is ``extra``
    (mmpose's, mmseg's, mmdet's ``HRNet(extra, in_channels, ...)``), ours
    is ``arch``, and a dict with the hosts' stage keys can only be the
    former."""
    if isinstance(arch, dict) and any(s in arch for s in STAGES):
        if extra is not None:
            raise ExtraFormError(
                f'{name}: arch has the hosts\' stage1..stage4 keys and '
                f'extra is given too; give one')
        return None, arch
    return arch, extra


def pretrained_init_cfg(name: str, pretrained: Optional[str], init_cfg,
                        init_cfg_is_default: bool):
    """The hosts' deprecated ``pretrained='path'`` as the ``init_cfg`` it
    stands for (mmseg's and mmdet's rule); ``init_cfg`` when None."""
    if pretrained is None:
        return init_cfg
    if not isinstance(pretrained, str):
        raise TypeError(f'{name}: pretrained must be a checkpoint path or '
                        f'None, got {type(pretrained).__name__}')
    if init_cfg is not None and not init_cfg_is_default:
        raise ValueError(f'{name}: pretrained={pretrained!r} and init_cfg='
                         f'{init_cfg!r} both say how to initialise; give '
                         f'only init_cfg=dict(type="Pretrained", '
                         f'checkpoint=...)')
    return dict(type='Pretrained', checkpoint=pretrained)


def is_pretrained_init(init_cfg) -> bool:
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(c, dict) and c.get('type') == 'Pretrained'
               for c in cfgs)


def zero_init_residual_norms(model: nn.Module) -> None:
    """The last norm of every residual block to zero (weight and bias), so
    each block starts as the identity (mmpose's ``zero_init_residual``)."""
    for m in model.modules():
        norm = m.bn3 if isinstance(m, Bottleneck) else \
            m.bn2 if isinstance(m, BasicBlock) else None
        if norm is not None:
            nn.init.zeros_(norm.weight)
            nn.init.zeros_(norm.bias)
