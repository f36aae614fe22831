"""HRNetV2Neck: the V1 / V2 / V2p read-outs, their output contract, and
parity with what mmseg (``resize_concat``) and mmdet (``HRFPN``) compute."""
import pytest
import torch

import hrformer_mm  # noqa: F401
from hrformer_mm.models.backbones import HRFormer, HRNet
from hrformer_mm.models.necks import HRNetV2Neck

CHANNELS = [18, 36, 72, 144]


def streams(h=64, w=48, channels=CHANNELS, seed=0):
    """Four streams at 1, 1/2, 1/4, 1/8 of (h, w), rounded up as strided
    convs do."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for c in channels:
        out.append(torch.randn(2, c, h, w, generator=g))
        h, w = (h + 1) // 2, (w + 1) // 2
    return out


def test_v1_is_the_highest_stream():
    x = streams()
    neck = HRNetV2Neck(CHANNELS, mode='v1')
    out = neck(x)
    assert len(out) == 1 and out[0] is x[0]
    assert neck.out_channels == 18 and neck.num_outs == 1
    assert not list(neck.parameters())


def test_v2_concatenates_every_stream_at_full_resolution():
    neck = HRNetV2Neck(CHANNELS, mode='v2')
    out = neck(streams())
    assert len(out) == 1
    assert tuple(out[0].shape) == (2, 270, 64, 48)
    assert neck.out_channels == 270


def test_v2_with_out_channels_mixes_with_conv_bn_relu():
    neck = HRNetV2Neck(CHANNELS, mode='v2', out_channels=64).train()
    (out, ) = neck(streams())
    assert tuple(out.shape) == (2, 64, 64, 48)
    assert out.min().item() == 0.0  # ReLU
    assert type(neck.reduction_conv.norm).__name__ == 'BatchNorm2d'
    assert neck.reduction_conv.conv.kernel_size == (1, 1)


def test_v2_matches_mmseg_resize_concat():
    """Same features through mmseg's ``BaseDecodeHead._transform_inputs``
    with ``input_transform='resize_concat'``."""
    heads = pytest.importorskip('mmseg.models.decode_heads')
    from mmengine.registry import DefaultScope

    # the head builds its loss from the default scope's registry, which an
    # earlier test may have left at mmpose's
    with DefaultScope.overwrite_default_scope('mmseg'):
        head = heads.FCNHead(in_channels=CHANNELS, in_index=(0, 1, 2, 3),
                             input_transform='resize_concat', channels=8,
                             num_classes=3, align_corners=False)
    x = streams(61, 47)  # not a multiple of 32
    expected = head._transform_inputs(x)
    (got, ) = HRNetV2Neck(CHANNELS, mode='v2')(x)
    assert expected.shape == got.shape == (2, 270, 61, 47)
    assert (expected - got).abs().max().item() < 1e-6


def _hrfpn_pair(pooling_type='AVG'):
    necks = pytest.importorskip('mmdet.models.necks')
    torch.manual_seed(0)
    ref = necks.HRFPN(CHANNELS, 32, num_outs=5, pooling_type=pooling_type)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(0.05 * torch.randn_like(p))
    ours = HRNetV2Neck(CHANNELS, mode='v2p', out_channels=32, num_outs=5,
                       pooling_type=pooling_type, norm_cfg=None,
                       act_cfg=None)
    # same key names: HRFPN weights load as they are
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref.eval(), ours.eval()


@pytest.mark.parametrize('pooling_type', ['AVG', 'MAX'])
def test_v2p_matches_mmdet_hrfpn_on_its_weights(pooling_type):
    ref, ours = _hrfpn_pair(pooling_type)
    x = streams(64, 96)
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    assert len(expected) == len(got) == 5
    for level, (e, g) in enumerate(zip(expected, got)):
        assert e.shape == g.shape == (2, 32, 64 >> level, 96 >> level)
        assert (e - g).abs().max().item() < 1e-5


def test_v2p_works_where_hrfpn_breaks():
    """HRFPN upsamples by fixed factors of 2, so a 61x47 stream 0 with a
    31x24 stream 1 gives 62x48 and the concatenation fails; ours resizes."""
    ref, ours = _hrfpn_pair()
    x = streams(61, 47)
    with pytest.raises(RuntimeError):
        ref(x)
    with torch.no_grad():
        out = ours(x)
    assert [tuple(o.shape[-2:]) for o in out] == [(61, 47), (30, 23),
                                                  (15, 11), (7, 5), (3, 2)]


@pytest.mark.parametrize('mode,num_outs,channels', [('v1', 1, 18),
                                                    ('v2', 1, 270),
                                                    ('v2p', 4, 16)])
def test_output_contract(mode, num_outs, channels):
    """A tuple of ``num_outs`` tensors, each ``out_channels`` wide, output k
    at stream 0's size // 2**k."""
    neck = HRNetV2Neck(CHANNELS, mode=mode, num_outs=4,
                       out_channels=16 if mode == 'v2p' else None).eval()
    with torch.no_grad():
        out = neck(streams(50, 38))
    assert isinstance(out, tuple)
    assert len(out) == neck.num_outs == num_outs
    assert neck.out_channels == channels
    for k, o in enumerate(out):
        assert tuple(o.shape) == (2, channels, 50 >> k, 38 >> k)


def test_backward_reaches_every_stream():
    x = [s.requires_grad_() for s in streams(32, 32)]
    neck = HRNetV2Neck(CHANNELS, mode='v2p', out_channels=8, num_outs=3,
                       with_cp=True)
    sum(o.sum() for o in neck(x)).backward()
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in x)


@pytest.mark.parametrize('backbone', [
    HRNet(dict(channels=(4, 8, 16, 32), num_modules=(1, 1, 1), num_blocks=1,
               stage1_blocks=1)),
    HRFormer(dict(channels=(8, 16, 32, 64), num_heads=(1, 2, 4, 8),
                  num_modules=(1, 1, 1), num_blocks=1))
], ids=['HRNet', 'HRFormer'])
def test_any_multi_resolution_backbone_feeds_it(backbone):
    neck = HRNetV2Neck(list(backbone.out_channels), mode='v2')
    with torch.no_grad():
        (out, ) = neck(backbone.eval()(torch.randn(1, 3, 100, 75)))
    assert tuple(out.shape) == (1, sum(backbone.out_channels), 25, 19)


@pytest.mark.parametrize('kwargs,match', [
    (dict(mode='v3'), 'mode must be one of'),
    (dict(mode='v2p'), 'needs out_channels'),
    (dict(pooling_type='MIN'), 'pooling_type'),
    (dict(mode='v1', stride=2), r"stride=2 applies to .* mode='v1'"),
    (dict(mode='v2', stride=2), r"stride=2 applies to .* mode='v2'"),
])
def test_bad_options_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HRNetV2Neck(CHANNELS, **kwargs)


def test_wrong_number_of_streams_is_named():
    with pytest.raises(ValueError, match='built for 4 streams, got 3'):
        HRNetV2Neck(CHANNELS)(streams()[:3])
