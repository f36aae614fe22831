"""The hosts' ``extra=`` form beyond the released configs: every block type
the hosts allow in every stage, widths that change between stages, block
counts per branch, ``extra`` as the first positional argument, and
mmpretrain as a host.  Each layout is built by the host and by us, the
host's random weights are loaded strictly into ours and the outputs must be
the host's (tiny widths, 64x64 input)."""
import copy
import importlib
import inspect

import pytest
import torch
from mmengine.registry import DefaultScope

import hrformer_mm  # noqa: F401
from hrformer_mm.models.backbones import HRFormer, HRNet
from hrformer_mm.models.backbones.host_form import (ExtraFormError,
                                                    ExtraKeyError)
from hrformer_mm.testing import seeded_state

HRNET_HOSTS = ('mmpose', 'mmseg', 'mmdet', 'mmpretrain')


def _stage(modules, block, num_blocks, channels):
    return dict(num_modules=modules, num_branches=len(channels),
                block=block, num_blocks=num_blocks, num_channels=channels)


# BASIC stage 1, BOTTLENECK branches in stages 2 and 4 (4x their widths
# wide), and branches of one stage with different depths.  A stream keeps
# its width from stage 2 on: mmpose's, mmseg's and mmdet's forward applies
# the width-changing transition of every stream of stages 3 and 4 to the
# lowest-resolution stream (and fails); mmpretrain's applies each to its
# own stream, as ours does (WIDENING_EXTRA).
MIXED_EXTRA = dict(
    stage1=_stage(1, 'BASIC', (1, ), (8, )),
    stage2=_stage(1, 'BOTTLENECK', (1, 2), (4, 8)),
    stage3=_stage(2, 'BASIC', (1, 1, 2), (16, 32, 24)),
    stage4=_stage(1, 'BOTTLENECK', (2, 1, 1, 1), (4, 8, 6, 16)))
MIXED_OUT_CHANNELS = (16, 32, 24, 64)
# every stream changes width between stages 2, 3 and 4
WIDENING_EXTRA = dict(
    stage1=_stage(1, 'BOTTLENECK', (1, ), (8, )),
    stage2=_stage(1, 'BASIC', (1, 1), (8, 16)),
    stage3=_stage(1, 'BOTTLENECK', (1, 1, 2), (4, 8, 16)),
    stage4=_stage(2, 'BASIC', (1, 2, 1, 1), (8, 24, 40, 64)))


def _host_class(host, name):
    return getattr(importlib.import_module(f'{host}.models.backbones'), name)


def _host_and_ours(host, name, extra, **kwargs):
    """The host's backbone with seeded random weights, and ours built from
    the same arguments under the host's scope with those weights loaded
    strictly; both in eval mode."""
    ref = _host_class(host, name)(extra=copy.deepcopy(extra), **kwargs)
    state = {k: v for k, v in ref.state_dict().items()
             if not k.endswith('relative_position_index')}
    state = seeded_state([(k, v.shape) for k, v in state.items()], seed=0)
    ref.load_state_dict(state, strict=False)
    ours_cls = HRNet if name == 'HRNet' else HRFormer
    with DefaultScope.overwrite_default_scope(host):
        ours = ours_cls(extra=copy.deepcopy(extra), **kwargs)
    ours.load_state_dict(state, strict=True)
    ref.eval()
    ours.eval()
    return ref, ours


def _mixed_extra(host):
    extra = copy.deepcopy(MIXED_EXTRA)
    if host == 'mmpose':  # mmpose's switch for the four outputs
        extra['stage4']['multiscale_output'] = True
    return extra


@pytest.mark.parametrize('host', HRNET_HOSTS)
def test_hrnet_of_mixed_blocks_widths_and_depths_is_the_hosts(host):
    ref, ours = _host_and_ours(host, 'HRNet', _mixed_extra(host))
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    assert [tuple(o.shape[1:]) for o in got] == [
        (c, 16 // 2**i, 16 // 2**i) for i, c in enumerate(MIXED_OUT_CHANNELS)]
    assert ours.out_channels == MIXED_OUT_CHANNELS
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-5)


def test_streams_changing_width_at_every_stage_are_mmpretrains():
    ref, ours = _host_and_ours('mmpretrain', 'HRNet', WIDENING_EXTRA)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    assert ours.out_channels == (8, 24, 40, 64)
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-5)


def test_mixed_form_reads_as_our_arch():
    with DefaultScope.overwrite_default_scope('mmseg'):
        m = HRNet(extra=WIDENING_EXTRA)
    assert m.arch == dict(
        stage1_block='BOTTLENECK', stage1_blocks=1, stage1_channels=8,
        block=('BASIC', 'BOTTLENECK', 'BASIC'),
        channels=((8, 16), (4, 8, 16), (8, 24, 40, 64)),
        num_blocks=(1, (1, 1, 2), (1, 2, 1, 1)), num_modules=(1, 1, 2))
    # the arch alone builds the same network
    ours = HRNet(arch=m.arch)
    assert [k for k in ours.state_dict()] == [k for k in m.state_dict()]


@pytest.mark.parametrize('host', ('mmpose', 'mmseg', 'mmdet'))
def test_extra_as_first_positional_argument(host):
    """``HRNet(extra, in_channels, conv_cfg, norm_cfg, norm_eval,
    with_cp)`` as the hosts order them."""
    extra = _mixed_extra(host)
    norm_cfg = dict(type='BN', requires_grad=False)
    with DefaultScope.overwrite_default_scope(host):
        m = HRNet(copy.deepcopy(extra), 1, None, norm_cfg, True, True)
    ref = _host_class(host, 'HRNet')(copy.deepcopy(extra), 1, None, norm_cfg,
                                     True, True)
    assert m.in_channels == 1 and m.norm_eval is True
    assert not any(p.requires_grad for n, p in m.named_parameters()
                   if 'bn' in n)
    assert m.layer1[0].with_cp is True
    assert list(m.state_dict()) == [
        k for k in ref.state_dict()]


@pytest.mark.parametrize('host', ('mmpose', 'mmseg', 'mmdet', 'mmpretrain'))
def test_positional_order_is_the_hosts_where_they_agree(host):
    ours = list(inspect.signature(HRNet).parameters)
    theirs = list(inspect.signature(_host_class(host, 'HRNet')).parameters)
    if host == 'mmpretrain':  # arch, extra, in_channels, ...: ours by name
        theirs = ['arch'] + theirs[2:]
    else:
        theirs = ['arch'] + theirs[1:]
    positional = [n for n, p in inspect.signature(HRNet).parameters.items()
                  if p.kind == p.POSITIONAL_OR_KEYWORD]
    assert positional == ['arch', 'in_channels', 'conv_cfg', 'norm_cfg',
                          'norm_eval', 'with_cp']
    if host != 'mmpretrain':
        assert theirs[:len(positional)] == positional
    assert set(theirs) <= set(ours)


def test_hrformer_positional_order_is_mmposes():
    theirs = list(inspect.signature(
        _host_class('mmpose', 'HRFormer')).parameters)
    positional = [n for n, p in inspect.signature(HRFormer).parameters.items()
                  if p.kind == p.POSITIONAL_OR_KEYWORD]
    assert positional == ['arch'] + theirs[1:]


FORMER_EXTRA = dict(
    drop_path_rate=0.3,
    stage1=_stage(1, 'BOTTLENECK', (1, ), (8, )),
    **{f'stage{s}': dict(
        _stage(m, 'HRFORMERBLOCK', blocks, (8, 16, 32, 64)[:s]),
        num_heads=(1, 2, 4, 8)[:s], mlp_ratios=(4, ) * s,
        window_sizes=(7, ) * s)
       for s, m, blocks in ((2, 1, (2, 1)), (3, 2, (1, 1, 1)),
                            (4, 1, (2, 2, 1, 2)))})
FORMER_EXTRA['stage4']['multiscale_output'] = True


def _drop_rates(model):
    """Each transformer block's stochastic-depth rate (mmpose leaves an
    ``Identity`` where it is 0)."""
    return {n: float(getattr(m, 'drop_prob', 0.))
            for n, m in model.named_modules() if n.endswith('drop_path')}


def test_hrformer_with_depths_per_stage_and_branch_is_mmposes():
    ref, ours = _host_and_ours('mmpose', 'HRFormer', FORMER_EXTRA)
    assert ours.arch['num_blocks'] == ((2, 1), 1, (2, 2, 1, 2))
    rates = _drop_rates(ours)
    assert len(rates) == 2 + 1 + 2 * 3 + 7
    assert rates == pytest.approx(_drop_rates(ref))
    assert max(rates.values()) == pytest.approx(0.3)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('edit,error', [
    (lambda e: e.pop('stage4'), ExtraKeyError),
    (lambda e: e['stage4'].update(num_branches=3), ExtraFormError),
    (lambda e: e['stage3'].update(block='HRFORMERBLOCK'), ExtraFormError),
], ids=['three-stages', 'branches-and-lists-disagree', 'unknown-block'])
def test_malformed_forms_raise_what_each_host_raises(edit, error):
    """mmseg and mmpretrain assert, mmpose raises ValueError: ours is both."""
    extra = copy.deepcopy(MIXED_EXTRA)
    edit(extra)
    with DefaultScope.overwrite_default_scope('mmseg'):
        with pytest.raises(error) as info:
            HRNet(extra=extra)
    assert isinstance(info.value, AssertionError)
    assert isinstance(info.value, (ValueError, KeyError))
