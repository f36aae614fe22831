"""The hosts' ``extra=dict(stage1=..., stage4=...)`` form of HRNet and
HRFormer, translated into this package's ``arch`` dict and options.

mmpose's, mmseg's and mmdet's ``HRNet`` and mmpose's ``HRFormer`` describe
the network as four stage dicts (``num_modules``, ``num_branches``,
``block``, ``num_blocks``, ``num_channels``, and for HRFormer
``num_heads``, ``mlp_ratios``, ``window_sizes``) plus a few top-level keys.
:func:`translate_extra` reads that form once for both backbones, so a host
config switches to ``hrformer_mm.HRNet`` / ``hrformer_mm.HRFormer`` by its
``type`` alone.  What the form cannot express here (a stream whose width
changes between stages, BOTTLENECK branches, different block counts per
branch) is refused with the key that says it, never approximated.

The three hosts' ``HRNet`` differ where the form is silent; the host is the
config's: mmengine's current default scope (``default_scope`` of a config,
which every host runner and ``init_model`` / ``init_detector`` set).
"""
import inspect
from typing import Dict, List, Optional, Sequence

import torch.nn as nn
from mmengine.registry import DefaultScope

from ..layers import BasicBlock, Bottleneck

__all__ = ['HOSTS', 'current_host', 'translate_extra', 'changed_options',
           'options_from_extra', 'check_arch_is_ours',
           'pretrained_init_cfg', 'is_pretrained_init',
           'zero_init_residual_norms']

HOSTS = ('mmpose', 'mmseg', 'mmdet')

# What each host's HRNet does where its ``extra`` says nothing.
#   upsample: the fusion's low -> high resampling (mmseg: bilinear by the
#     fixed factor, then a bilinear resize to the target stream; mmpose and
#     mmdet: nearest by the factor);
#   multiscale: whether the last module fuses into every stream (mmpose reads
#     ``extra['stage4']['multiscale_output']``, default False; mmseg and mmdet
#     take a ``multiscale_output`` argument, default True, and ignore the
#     stage-4 key);
#   norm_eval: mmdet's HRNet keeps BatchNorm statistics frozen by default.
HRNET_HOST_DEFAULTS = {
    'mmpose': dict(upsample_mode='nearest', multiscale=False,
                   norm_eval=False),
    'mmseg': dict(upsample_mode='bilinear', multiscale=True,
                  norm_eval=False),
    'mmdet': dict(upsample_mode='nearest', multiscale=True, norm_eval=True),
}

STAGES = ('stage1', 'stage2', 'stage3', 'stage4')
_STAGE_KEYS = ('num_modules', 'num_branches', 'block', 'num_blocks',
               'num_channels')
# Per-stream keys of HRFormer's stages 2-4 and the arch keys they become.
_TRANSFORMER_KEYS = {'num_heads': 'num_heads', 'mlp_ratios': 'mlp_ratio',
                     'window_sizes': 'window_size'}
# mmpose's released HRFormer configs carry transformer keys in stage 1,
# which mmpose ignores (stage 1 is bottlenecks).
_IGNORED_STAGE1_KEYS = ('num_heads', 'mlp_ratios', 'num_mlp_ratios',
                        'window_sizes')
# mmpose's HRFormer writes these into the stage dicts of the ``extra`` it is
# given (so a config dict that built one carries them) and overwrites them
# from ``drop_path_rate`` on every build.
_IGNORED_TRANSFORMER_STAGE_KEYS = ('drop_path_rates', )

_FAMILIES = {
    # block of stages 2-4, per-stream keys, top-level keys besides stages
    'HRNet': ('BASIC', {}, ('upsample', )),
    'HRFormer': ('HRFORMERBLOCK', _TRANSFORMER_KEYS,
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
        raise KeyError(f'{where}: unknown keys {unknown}; known: '
                       f'{sorted(known)}')


def _per_stream(extra: dict, key: str, family: str) -> tuple:
    """A per-stream value of stages 2-4 as one tuple of 4, checking that
    every stage repeats the values of the streams it shares with stage 4
    (this package keeps one width, head count, ... per stream)."""
    full = tuple(extra['stage4'][key])
    if len(full) != 4:
        raise ValueError(f"extra['stage4']['{key}'] needs 4 values, got "
                         f'{full}')
    for s in (2, 3):
        values = tuple(extra[f'stage{s}'][key])
        if values != full[:s]:
            raise ValueError(
                f"extra['stage{s}']['{key}'] = {values} differs from the "
                f"first {s} of extra['stage4']['{key}'] = {full}: "
                f'hrformer_mm.{family} keeps each stream\'s {key} from stage '
                f'to stage')
    return full


def _stage_arch(extra: dict, family: str) -> dict:
    block, per_stream, _ = _FAMILIES[family]
    s1 = extra['stage1']
    _check_keys("extra['stage1']", s1, _STAGE_KEYS + (
        _IGNORED_STAGE1_KEYS if family == 'HRFormer' else ()))
    if s1.get('block') != 'BOTTLENECK':
        raise ValueError(f"extra['stage1']['block'] = {s1.get('block')!r}: "
                         f"hrformer_mm.{family} builds stage 1 from "
                         f"'BOTTLENECK' blocks, as the host's released "
                         f'configs do')
    if s1['num_modules'] != 1 or s1['num_branches'] != 1 or \
            len(s1['num_blocks']) != 1 or len(s1['num_channels']) != 1:
        raise ValueError("extra['stage1'] must have one module of one branch "
                         f'(num_modules=1, num_branches=1), got {s1}')
    arch = dict(stage1_blocks=s1['num_blocks'][0],
                stage1_channels=s1['num_channels'][0])
    num_modules, num_blocks = [], []
    for s in (2, 3, 4):
        cfg = extra[f'stage{s}']
        known = _STAGE_KEYS + tuple(per_stream) + (
            ('multiscale_output', ) if s == 4 else ()) + (
            _IGNORED_TRANSFORMER_STAGE_KEYS if family == 'HRFormer' else ())
        _check_keys(f"extra['stage{s}']", cfg, known)
        missing = sorted(set(_STAGE_KEYS + tuple(per_stream)) - set(cfg))
        if missing:
            raise KeyError(f"extra['stage{s}'] lacks {missing}")
        if cfg['block'] != block:
            raise ValueError(
                f"extra['stage{s}']['block'] = {cfg['block']!r}: "
                f"hrformer_mm.{family} builds stages 2-4 from {block!r} "
                f'blocks only (the host\'s default)')
        if cfg['num_branches'] != s:
            raise ValueError(f"extra['stage{s}']['num_branches'] must be {s} "
                             f"(stage {s} runs {s} streams), got "
                             f"{cfg['num_branches']}")
        for key in ('num_blocks', 'num_channels') + tuple(per_stream):
            if len(cfg[key]) != s:
                raise ValueError(f"extra['stage{s}']['{key}'] needs {s} "
                                 f'values (one per branch), got {cfg[key]}')
        if len(set(cfg['num_blocks'])) != 1:
            raise ValueError(
                f"extra['stage{s}']['num_blocks'] = {cfg['num_blocks']}: "
                f'hrformer_mm.{family} runs the same number of blocks in '
                f'every branch of a stage')
        num_modules.append(cfg['num_modules'])
        num_blocks.append(cfg['num_blocks'][0])
    arch.update(channels=_per_stream(extra, 'num_channels', family),
                num_modules=tuple(num_modules))
    for key, arch_key in per_stream.items():
        arch[arch_key] = _per_stream(extra, key, family)
    if family == 'HRFormer':
        if len(set(num_blocks)) != 1:
            raise ValueError(
                f'num_blocks of stages 2-4 are {num_blocks}: '
                f'hrformer_mm.HRFormer runs the same number of transformer '
                f'blocks per branch in every module')
        arch['num_blocks'] = num_blocks[0]
    else:
        arch['num_blocks'] = tuple(num_blocks)
    return arch


def _upsample(extra: dict, default: dict) -> dict:
    upsample = extra.get('upsample', default)
    _check_keys("extra['upsample']", upsample, ('mode', 'align_corners'))
    mode = upsample.get('mode', default['mode'])
    if mode not in ('nearest', 'bilinear'):
        raise ValueError(f"extra['upsample']['mode'] must be 'nearest' or "
                         f"'bilinear', got {mode!r}")
    return dict(mode=mode, align_corners=bool(upsample.get('align_corners')))


def translate_extra(family: str, extra: dict,
                    multiscale_output: Optional[bool] = None) -> Dict:
    """Our constructor options for a host's ``extra`` dict.

    Returns ``arch``, ``out_indices`` and ``upsample_cfg`` and, for
    ``family='HRNet'``, ``norm_eval`` (the host's default) and ``host``; for
    ``'HRFormer'`` (mmpose's form whatever the scope: only mmpose has an
    HRFormer) ``drop_path_rate``, ``with_rpe`` and ``with_pad_mask``.
    ``multiscale_output`` is mmseg's and mmdet's HRNet argument (None: not
    given).
    """
    if not isinstance(extra, dict):
        raise TypeError(f'extra must be a dict of stage dicts, got '
                        f'{type(extra).__name__}')
    _, _, top = _FAMILIES[family]
    _check_keys('extra', extra, STAGES + top)
    missing = [s for s in STAGES if s not in extra]
    if missing:
        raise KeyError(f'extra lacks {missing}')
    out = dict(arch=_stage_arch(extra, family))
    stage4_key = extra['stage4'].get('multiscale_output')

    if family == 'HRFormer':
        if multiscale_output is not None:
            raise ValueError("HRFormer's hosts' form says multiscale_output "
                             "in extra['stage4'] (mmpose's), not as an "
                             'argument')
        multiscale = bool(stage4_key)
        if extra.get('with_pad_mask', False):
            raise ValueError(
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
                raise ValueError(
                    f'multiscale_output={multiscale_output} contradicts '
                    f"extra['stage4']['multiscale_output']={stage4_key}")
            given = stage4_key if multiscale_output is None \
                else multiscale_output
            multiscale = defaults['multiscale'] if given is None \
                else bool(given)
            up = _upsample(extra, dict(mode='nearest', align_corners=False))
            if up['mode'] == 'bilinear' and up['align_corners']:
                raise ValueError(
                    "extra['upsample'] with align_corners=True: "
                    'hrformer_mm.HRNet upsamples bilinearly with '
                    'align_corners=False only')
            mode, by_factor = up['mode'], False
        else:
            if 'upsample' in extra:
                raise ValueError(
                    f"extra['upsample'] is mmpose's key; {host}'s HRNet "
                    f"always upsamples by {defaults['upsample_mode']} "
                    f'interpolation and ignores it')
            multiscale = defaults['multiscale'] if multiscale_output is None \
                else bool(multiscale_output)
            if stage4_key is not None and bool(stage4_key) != multiscale:
                raise ValueError(
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


def check_arch_is_ours(name: str, arch) -> None:
    """Refuse a host ``extra`` dict given as ``arch`` (the hosts' first
    positional argument is ``extra``, ours is ``arch``)."""
    if isinstance(arch, dict) and any(s in arch for s in STAGES):
        raise ValueError(f'{name}: arch has the hosts\' stage1..stage4 keys; '
                         f'pass that dict as extra=..., or give arch in our '
                         f'form (channels, num_modules, ...)')


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
