"""Our HRFormer computes exactly what mmpose 1.3.2's HRFormer computes.

With identical weights (mmpose's state dict loaded strictly into ours, its
derived ``relative_position_index`` buffers aside), outputs agree to 1e-5 in
fp32 eval mode.  Together with the released mmpose checkpoints this carries
their COCO APs over to this implementation.
"""
import pytest
import torch

import hrformer_mm  # noqa: F401
from hrformer_mm.models.backbones import HRFormer
from hrformer_mm.testing import mmpose_hrformer_extra

mmpose_backbones = pytest.importorskip('mmpose.models.backbones')


def _pair(arch, multiscale, **kwargs):
    torch.manual_seed(0)
    ref = mmpose_backbones.HRFormer(
        mmpose_hrformer_extra(arch, multiscale_output=multiscale, **kwargs),
        norm_cfg=dict(type='BN'))
    ref.init_weights()
    # Randomise everything, biases and BN statistics included, so that a
    # wrong wiring cannot hide behind zeros and ones.
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(0.02 * torch.randn_like(p))
        for name, b in ref.named_buffers():
            if name.endswith('running_mean'):
                b.copy_(0.1 * torch.randn_like(b))
            elif name.endswith('running_var'):
                b.copy_(torch.rand_like(b) * 0.5 + 0.75)
    ours = HRFormer(arch, out_indices=(0, 1, 2, 3) if multiscale else (0, ),
                    window_sizes=kwargs.get('window_sizes'),
                    with_rpe=kwargs.get('with_rpe', True))
    state = {k: v for k, v in ref.state_dict().items()
             if not k.endswith('relative_position_index')}
    ours.load_state_dict(state, strict=True)
    ref.eval()  # mmpose.HRNet.train() returns None
    return ref, ours.eval()


@pytest.mark.parametrize('arch', ['tiny', 'small', 'base'])
@pytest.mark.parametrize('multiscale', [False, True])
@pytest.mark.slow
def test_matches_mmpose_at_256x192(arch, multiscale):
    ref, ours = _pair(arch, multiscale)
    x = torch.randn(1, 3, 256, 192)
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    assert len(expected) == len(got) == (4 if multiscale else 1)
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        assert (e - g).abs().max().item() < 1e-5


def test_matches_mmpose_with_blocks_per_stage_and_branch():
    arch = dict(channels=(18, 36, 72, 144), num_heads=(1, 2, 4, 8),
                num_modules=(1, 1, 1), num_blocks=(1, (2, 1, 1), 1))
    extra = mmpose_hrformer_extra(arch)
    assert [extra[f'stage{s}']['num_blocks'] for s in (2, 3, 4)] == \
        [(1, 1), (2, 1, 1), (1, 1, 1, 1)]
    ref, ours = _pair(arch, multiscale=True)
    _assert_same(ref, ours, torch.randn(1, 3, 64, 64))


def _assert_same(ref, ours, x):
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    assert len(expected) == len(got)
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        assert (e - g).abs().max().item() < 1e-5


@pytest.mark.parametrize('arch', ['tiny', 'small', 'base'])
@pytest.mark.parametrize('size', [(384, 288), (255, 191)],
                         ids=['384x288', '255x191'])
@pytest.mark.slow
def test_matches_mmpose_at_other_sizes(arch, size):
    """384x288 (the large pose input) and 255x191, a size that is not a
    multiple of 32 but for which mmpose's fixed-factor upsampling still
    lines up (its streams are 64x48, 32x24, ...)."""
    ref, ours = _pair(arch, multiscale=True)
    _assert_same(ref, ours, torch.randn(1, 3, *size))


@pytest.mark.parametrize('window', [13, 15])
@pytest.mark.slow
def test_matches_mmpose_with_large_windows(window):
    """The large-window segmentation variants (K=13 for ADE20K, 15
    otherwise), on a segmentation-style crop."""
    ref, ours = _pair('small', multiscale=True, window_sizes=window)
    _assert_same(ref, ours, torch.randn(1, 3, 160, 160))


def test_matches_mmpose_with_bias_switched_off():
    """with_rpe=False: what the reference pose checkpoints were trained as."""
    ref, ours = _pair('tiny', multiscale=False, with_rpe=False)
    _assert_same(ref, ours, torch.randn(2, 3, 128, 96))
