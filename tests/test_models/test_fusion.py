"""MultiResolutionFusion's vocabulary (the downsampling variants, the
output widths, ``upsample_cfg``, ``act_cfg``) and the drop-path schedule
helper the backbones share."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from hrformer_mm.models.layers import (DOWNSAMPLE_MODES,
                                       MultiResolutionFusion, drop_path_rates)


def _convs(module):
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


@pytest.mark.parametrize('downsample,expected', [
    # per halving a 3x3 stride-2 conv (HRNet)
    ('stepwise', [(3, 2, 1, 8), (3, 2, 1, 32)]),
    # per halving depthwise 3x3 stride 2, then 1x1 (HRFormer)
    ('stepwise_separable', [(3, 2, 8, 8), (1, 1, 1, 8), (3, 2, 8, 8),
                            (1, 1, 1, 32)]),
    # one depthwise conv of kernel 2**d + 1, stride 2**d, then 1x1 (HRViT)
    ('direct', [(5, 4, 8, 8), (1, 1, 1, 32)]),
])
def test_each_downsample_variant_builds_its_path(downsample, expected):
    fusion = MultiResolutionFusion([8, 16, 32], downsample=downsample)
    down = fusion[2][0]  # stream 0 to stream 2: two halvings
    assert [(c.kernel_size[0], c.stride[0], c.groups, c.out_channels)
            for c in _convs(down)] == expected
    relus = [m for m in down.modules() if isinstance(m, nn.ReLU)]
    assert len(relus) == (1 if downsample.startswith('stepwise') else 0)


def test_unknown_downsample_is_refused_with_the_choices():
    with pytest.raises(ValueError, match='stepwise_separable'):
        MultiResolutionFusion([8, 16], downsample='depthwise')
    assert DOWNSAMPLE_MODES == ('stepwise', 'stepwise_separable', 'direct')


def test_out_channels_say_how_many_outputs_and_how_wide():
    assert len(MultiResolutionFusion([8, 16, 32])) == 3
    stop_early = MultiResolutionFusion([8, 16, 32], [8])
    assert len(stop_early) == 1 and stop_early[0][0] is None
    # a new, lower stream made from all inputs at its own width (HRViT)
    grow = MultiResolutionFusion([8, 16], [8, 16, 24], downsample='direct')
    assert [_convs(p)[-1].out_channels for p in grow[2]] == [24, 24]
    out = grow([torch.randn(1, 8, 16, 16), torch.randn(1, 16, 8, 8)])
    assert [tuple(o.shape) for o in out] == [(1, 8, 16, 16), (1, 16, 8, 8),
                                             (1, 24, 4, 4)]


@pytest.mark.parametrize('act', ['ReLU', 'GELU'])
def test_act_cfg_is_applied_after_the_sum(act):
    fusion = MultiResolutionFusion([4], act_cfg=dict(type=act))
    x = torch.randn(1, 4, 5, 5)
    expected = F.relu(x) if act == 'ReLU' else F.gelu(x)
    assert torch.equal(fusion([x])[0], expected)


@pytest.mark.parametrize('act_cfg', [dict(type='SiLU'), 'GELU',
                                     dict(type='ReLU', inplace=True)])
def test_other_activations_are_refused(act_cfg):
    with pytest.raises(ValueError, match='act_cfg'):
        MultiResolutionFusion([4, 8], act_cfg=act_cfg)


def test_upsample_cfg_is_completed_and_checked():
    fusion = MultiResolutionFusion([4, 8], upsample_cfg=dict(mode='nearest'))
    assert (fusion.upsample_mode, fusion.upsample_by_factor,
            fusion.align_corners) == ('nearest', False, False)
    with pytest.raises(KeyError, match='upsample_cfg'):
        MultiResolutionFusion([4, 8], upsample_cfg=dict(scale=2))
    with pytest.raises(ValueError, match='bicubic'):
        MultiResolutionFusion([4, 8], upsample_cfg=dict(mode='bicubic'))
    with pytest.raises(TypeError, match='upsample_cfg'):
        MultiResolutionFusion([4, 8], upsample_cfg='nearest')


def test_drop_path_rates_rise_linearly_and_split_into_groups():
    groups = drop_path_rates(0.5, [1, 3, 2])
    assert [len(g) for g in groups] == [1, 3, 2]
    flat = [r for g in groups for r in g]
    assert flat[0] == 0. and flat[-1] == pytest.approx(0.5)
    assert flat == pytest.approx([0.1 * i for i in range(6)])
    assert drop_path_rates(0.3, [2, 0, 1])[1] == []
