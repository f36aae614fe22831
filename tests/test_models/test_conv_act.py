"""Conv2dAct: a convolution and its activation as one oneDNN kernel in
deployed inference, the same function as running them one after the other,
and fused only where the order of execution is certain."""
import pytest
import torch
import torch.nn as nn

from hrformer_mm.models.backbones import HRFormer, HRNet
from hrformer_mm.models.layers import (Bottleneck, Conv2dAct, ConvFFN,
                                       fuse_conv_activations)

ACTS = [nn.ReLU(), nn.GELU(), nn.GELU(approximate='tanh')]


@pytest.mark.parametrize('act', ACTS, ids=['relu', 'gelu', 'gelu_tanh'])
@pytest.mark.parametrize('conv_kw', [
    dict(kernel_size=1),
    dict(kernel_size=3, padding=1, groups=8),
    dict(kernel_size=3, padding=2, dilation=2, stride=2, bias=False),
], ids=['1x1', 'dw3x3', 'strided_dilated'])
@pytest.mark.parametrize('channels_last', [False, True])
def test_one_kernel_equals_conv_then_activation(act, conv_kw, channels_last):
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, **conv_kw).eval()
    fused = Conv2dAct.from_conv(conv, act)
    x = torch.randn(2, 8, 13, 11)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        assert fused._one_kernel(x) == torch.backends.mkldnn.is_available()
        got = fused(x)
        expected = act(conv(x))
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_shares_the_parameters_and_falls_back_under_autograd():
    conv = nn.Conv2d(4, 4, 3, padding=1)
    fused = Conv2dAct.from_conv(conv, nn.GELU())
    assert fused.weight is conv.weight and fused.bias is conv.bias
    assert set(fused.state_dict()) == {'weight', 'bias'}
    x = torch.randn(1, 4, 6, 6, requires_grad=True)
    assert not fused._one_kernel(x)
    fused(x).sum().backward()  # the two-op path: the gradients of conv + GELU
    got = (x.grad.clone(), conv.weight.grad.clone())
    x.grad, conv.weight.grad, conv.bias.grad = None, None, None
    nn.functional.gelu(conv(x)).sum().backward()
    torch.testing.assert_close(got[0], x.grad)
    torch.testing.assert_close(got[1], conv.weight.grad)


def test_activation_without_a_onednn_fusion_is_refused():
    with pytest.raises(TypeError, match='SiLU'):
        Conv2dAct.from_conv(nn.Conv2d(2, 2, 1), nn.SiLU())


def test_sequential_pairs_are_fused_past_a_folded_norm_only():
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Identity(), nn.ReLU(),
                        nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.Conv2d(4, 4, 1), nn.SiLU())
    assert fuse_conv_activations(seq) == 1
    assert isinstance(seq[0], Conv2dAct) and isinstance(seq[2], nn.Identity)
    # a live BatchNorm sits between: not fused; SiLU has no oneDNN fusion
    assert type(seq[3]) is nn.Conv2d and type(seq[6]) is nn.Conv2d


def test_residual_blocks_are_left_alone():
    """Bottleneck registers conv3, bn3 and relu in that order but applies
    the ReLU after the residual sum: fusing it would change the result."""
    block = Bottleneck(8, 2).eval()
    assert fuse_conv_activations(block) == 0


def test_ffn_fuses_its_three_pairs_only_once_folded():
    ffn = ConvFFN(8, 16).eval()
    assert fuse_conv_activations(ffn) == 0  # the BNs are still there
    for n in ('norm1', 'norm2', 'norm3'):
        setattr(ffn, n, nn.Identity())
    assert fuse_conv_activations(ffn) == 3
    assert all(isinstance(getattr(ffn, n), Conv2dAct)
               for n in ('fc1', 'dw3x3', 'fc2'))


@pytest.mark.parametrize('build', [
    lambda: HRFormer(dict(channels=(8, 16, 32, 64), num_heads=(1, 1, 2, 2),
                          num_modules=(1, 1, 1), num_blocks=1)),
    lambda: HRNet('w18-small'),
], ids=['hrformer', 'hrnet'])
def test_deployed_backbone_fuses_activations_and_keeps_outputs(build):
    torch.manual_seed(0)
    model = build()
    model.init_weights()
    keys = set(model.state_dict())
    x = torch.randn(2, 3, 64, 56)
    with torch.no_grad():
        expected = model.eval()(x)
        model.switch_to_deploy()
        got = model(x)
    assert model.num_fused_activations > 0
    assert sum(isinstance(m, Conv2dAct) for m in model.modules()) == \
        model.num_fused_activations
    # the BatchNorms' entries go, folded convs gain a bias, nothing else
    new = set(model.state_dict()) - keys
    assert new and all(k.endswith('.bias') for k in new)
    assert not any(k.endswith('running_mean') for k in model.state_dict())
    for a, b in zip(expected, got):
        # randomly initialised HRNet streams reach ~1e4 (BN without
        # statistics): folding rounds at fp32 precision of that scale
        assert (b - a).abs().max() <= 1e-5 * a.abs().max() + 1e-5
