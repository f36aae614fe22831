"""HRNet backbone: the paper's sizes, exact parity with mmpose's and mmseg's
HRNet on their own weights, and the options every OpenMMLab backbone has."""
import pytest
import torch

import hrformer_mm  # noqa: F401
from hrformer_mm.models.backbones import HRNet
from hrformer_mm.testing import hrnet_extra

TINY_ARCH = dict(channels=(4, 8, 16, 32), num_modules=(1, 1, 1),
                 num_blocks=1, stage1_blocks=1, stage1_channels=8)


def _params(module):
    return sum(p.numel() for p in module.parameters())


def _randomise(ref):
    """Random weights, biases and BN statistics, so that no wrong wiring can
    hide behind ones and zeros."""
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(0.05 * torch.randn_like(p) + (p if p.dim() == 1 else 0))
        for name, b in ref.named_buffers():
            if name.endswith('running_mean'):
                b.copy_(0.1 * torch.randn_like(b))
            elif name.endswith('running_var'):
                b.copy_(torch.rand_like(b) * 0.5 + 0.75)


def _pair(host, arch, multiscale):
    backbones = pytest.importorskip(f'{host}.models.backbones')
    torch.manual_seed(0)
    # mmseg takes multiscale_output as an argument, mmpose in ``extra``
    kwargs = dict(multiscale_output=multiscale) if host == 'mmseg' else \
        dict(norm_cfg=dict(type='BN'))
    ref = backbones.HRNet(hrnet_extra(arch, multiscale), **kwargs)
    _randomise(ref)
    ours = HRNet(arch, out_indices=(0, 1, 2, 3) if multiscale else (0, ),
                 upsample_cfg=dict(
                     mode='bilinear' if host == 'mmseg' else 'nearest'))
    # their checkpoints load unchanged: every key, nothing left over
    ours.load_state_dict(ref.state_dict(), strict=True)
    ref.eval()
    return ref, ours.eval()


@pytest.mark.parametrize('arch,expected_m', [('w18', 9.56), ('w32', 29.31),
                                             ('w48', 65.33)])
def test_parameter_count_matches_paper(arch, expected_m):
    """HRNetV2 paper: W18 9.56M, W32 29.31M, W48 65.33M (backbone)."""
    assert _params(HRNet(arch)) / 1e6 == pytest.approx(expected_m, rel=5e-3)


# Backbone parameters of mmpretrain 1.2.0's HRNet(arch=...) (its arch_zoo,
# mmpretrain/models/backbones/hrnet.py, counted).  With mmpretrain's
# HRFuseScales neck and linear head they give the classifier counts of its
# hrnet/metafile.yml (21295164 for w18 ... 128056104 for w64,
# test_classifier_configs_have_the_published_parameter_counts).
MMPRETRAIN_BACKBONE_PARAMS = {
    'w18': 9562260, 'w30': 25812276, 'w32': 29305536, 'w40': 45521216,
    'w44': 54974640, 'w48': 65325120, 'w64': 115697600}


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@pytest.mark.parametrize('arch', sorted(MMPRETRAIN_BACKBONE_PARAMS))
@pytest.mark.slow
def test_every_mmpretrain_width_is_mmpretrains_hrnet(arch):
    with torch.device('meta'):  # shapes only: W64 in milliseconds
        ours = HRNet(arch)
    assert _params(ours) == MMPRETRAIN_BACKBONE_PARAMS[arch]
    backbones = pytest.importorskip('mmpretrain.models.backbones')
    with torch.device('meta'):
        theirs = backbones.HRNet(arch=arch)
    # the same tensors under the same names: its checkpoints load unchanged
    assert _shapes(ours) == _shapes(theirs)


def _release_small_extra(version):
    """The stages of the HRNet ImageNet release's
    experiments/cls_hrnet_w18_small_v{1,2}_sgd_lr5e-2_wd1e-4_bs32_x100.yaml,
    in the hosts' ``extra`` form."""
    if version == 1:  # a 16-wide model, though the release names it W18
        stage1, widths, modules, blocks = (1, 32), (16, 32, 64, 128), \
            (1, 1, 1), 2
    else:
        stage1, widths, modules, blocks = (2, 64), (18, 36, 72, 144), \
            (1, 3, 2), 2
    extra = dict(stage1=dict(num_modules=1, num_branches=1,
                             block='BOTTLENECK', num_blocks=(stage1[0], ),
                             num_channels=(stage1[1], )))
    for s, n in zip((2, 3, 4), modules):
        extra[f'stage{s}'] = dict(num_modules=n, num_branches=s,
                                  block='BASIC', num_blocks=(blocks, ) * s,
                                  num_channels=widths[:s])
    return extra


@pytest.mark.parametrize('arch,version,expected', [
    ('w18-small-v1', 1, 1_477_920), ('w18-small-v2', 2, 3_860_720),
    ('w18-small', 2, 3_860_720)])
def test_small_widths_are_the_releases(arch, version, expected):
    """W18-small v1 / v2 of the HRNet ImageNet release; mmseg's
    'w18-small' (HRNetV2-W18-Small, fcn_hr18s) is v2."""
    with torch.device('meta'):
        ours = HRNet(arch)
    assert _params(ours) == expected
    backbones = pytest.importorskip('mmseg.models.backbones')
    with torch.device('meta'):
        theirs = backbones.HRNet(_release_small_extra(version))
    assert _shapes(ours) == _shapes(theirs)


# Whole classifiers: mmpretrain 1.2.0's hrnet/metafile.yml (exact counts,
# hrnet-<w>_3rdparty_8xb32_in1k) and the HRNet-Image-Classification README
# (13.2M and 15.6M for HRNet-W18-C-Small-v1 / v2, whose head convolutions
# carry 3840 biases that mmpretrain's HRFuseScales folds away).
PUBLISHED_CLASSIFIER_PARAMS = {
    'w18': 21295164, 'w30': 37708380, 'w32': 41228840, 'w40': 57553320,
    'w44': 67061144, 'w48': 77466024, 'w64': 128056104,
    'w18_small_v1': 13.2e6, 'w18_small_v2': 15.6e6}


@pytest.mark.parametrize('width', sorted(PUBLISHED_CLASSIFIER_PARAMS))
@pytest.mark.slow
def test_classifier_configs_have_the_published_parameter_counts(width):
    from hrformer_mm.engine.launch import build_model_from_config
    from e2e_utils import ROOT
    with torch.device('meta'):
        _, model = build_model_from_config(
            f'{ROOT}/configs/cls/hrnet_{width}_imagenet.py')
    expected = PUBLISHED_CLASSIFIER_PARAMS[width]
    if isinstance(expected, float):  # published in 0.1M
        assert round(_params(model) / 1e5) * 1e5 == expected
    else:
        assert _params(model) == expected


@pytest.mark.parametrize('host', ['mmpose', 'mmseg'])
@pytest.mark.parametrize('arch,size,multiscale', [
    ('w18', (96, 64), True), ('w18', (96, 64), False),
    ('w32', (64, 64), True), ('w48', (64, 32), True),
    ('w18-small', (64, 96), True)
])
@pytest.mark.slow
def test_matches_host_hrnet_on_its_weights(host, arch, size, multiscale):
    ref, ours = _pair(host, arch, multiscale)
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    assert len(expected) == len(got) == (4 if multiscale else 1)
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        assert (e - g).abs().max().item() < 1e-5
        assert e.abs().max().item() > 1e-2  # not a trivially zero output


def test_state_dict_uses_host_key_names():
    keys = set(HRNet('w18').state_dict())
    for k in ('conv1.weight', 'bn2.running_var', 'layer1.3.bn3.weight',
              'layer1.0.downsample.0.weight', 'transition1.0.0.weight',
              'transition1.1.0.0.weight', 'transition3.3.0.1.bias',
              'stage2.0.branches.1.3.conv2.weight',
              'stage3.3.fuse_layers.0.2.1.weight',  # 1x1 conv + BN up path
              'stage4.2.fuse_layers.3.0.2.0.weight'):  # 3 stride-2 steps
        assert k in keys


@pytest.mark.parametrize('mode', ['nearest', 'bilinear'])
@pytest.mark.parametrize('size', [(97, 61), (250, 190)])
def test_sizes_not_divisible_by_32_work(mode, size):
    m = HRNet(TINY_ARCH, upsample_cfg=dict(mode=mode)).eval()
    with torch.no_grad():
        out = m(torch.randn(1, 3, *size))
    h, w = size
    for i, o in enumerate(out):
        for _ in range(i + 2):
            h, w = (h + 1) // 2, (w + 1) // 2
        assert o.shape[-2:] == (h, w)
        h, w = size


def test_multiscale_output_shapes_and_channels():
    m = HRNet('w18').eval()
    with torch.no_grad():
        out = m(torch.randn(1, 3, 64, 96))
    assert [tuple(o.shape) for o in out] == [(1, 18, 16, 24), (1, 36, 8, 12),
                                             (1, 72, 4, 6), (1, 144, 2, 3)]
    assert m.out_channels == (18, 36, 72, 144)


def test_single_output_fuses_only_into_stream_0():
    m = HRNet('w32', out_indices=(0, ))
    assert len(m.stage4[-1].fuse_layers) == 1
    assert len(m.stage4[0].fuse_layers) == 4
    assert m.out_channels == (32, )


def test_out_indices_select_streams():
    m = HRNet(TINY_ARCH, out_indices=(1, 3)).eval()
    with torch.no_grad():
        out = m(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in out] == [8, 32]


def test_frozen_stages_freeze_stem_and_stage1():
    m = HRNet(TINY_ARCH, frozen_stages=1)
    m.train()
    for mod in (m.conv1, m.bn1, m.layer1, m.transition1):
        assert all(not p.requires_grad for p in mod.parameters())
    assert not m.bn1.training and not m.layer1.training
    assert all(p.requires_grad for p in m.stage2.parameters())


def test_norm_eval_keeps_batchnorm_statistics():
    m = HRNet(TINY_ARCH, norm_eval=True)
    m.train()
    before = m.stage2[0].branches[0][0].bn1.running_mean.clone()
    m(torch.randn(2, 3, 64, 64))
    assert torch.equal(before, m.stage2[0].branches[0][0].bn1.running_mean)


def test_gradient_checkpointing_gives_same_gradients():
    torch.manual_seed(0)
    a = HRNet(TINY_ARCH)
    b = HRNet(TINY_ARCH, with_cp=True)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 64, 64)
    for m in (a, b):
        m.train()
        sum(o.sum() for o in m(x)).backward()
    ga = a.stage3[0].branches[1][0].conv1.weight.grad
    gb = b.stage3[0].branches[1][0].conv1.weight.grad
    assert ga.abs().sum() > 0
    assert torch.allclose(ga, gb, atol=1e-5)


def test_default_init_is_kaiming_with_unit_batchnorm():
    m = HRNet(TINY_ARCH)
    torch.nn.init.zeros_(m.conv1.weight)
    m.init_weights()
    # Kaiming normal, fan_out = 64 * 3 * 3: std sqrt(2 / 576) = 0.059
    assert m.conv1.weight.std().item() == pytest.approx(0.059, rel=0.15)
    assert torch.equal(m.bn1.weight, torch.ones(64))


def test_wrong_channel_count_is_named():
    with pytest.raises(ValueError, match='HRNet was built for 3-channel'):
        HRNet(TINY_ARCH)(torch.randn(1, 4, 64, 64))


@pytest.mark.parametrize('kwargs,error,match', [
    (dict(arch='w99'), KeyError, 'unknown HRNet arch "w99"'),
    (dict(arch=dict(channels=(8, 16, 32, 64))), KeyError, 'num_modules'),
    (dict(arch=TINY_ARCH, out_indices=(4, )), ValueError, 'out_indices'),
    (dict(arch=TINY_ARCH, upsample_cfg=dict(mode='bicubic')), ValueError,
     r"upsample_cfg\['mode'\]"),
    (dict(arch=TINY_ARCH, upsample_cfg=dict(scale=2)), KeyError,
     'upsample_cfg'),
    (dict(arch=TINY_ARCH, upsample_cfg=dict(mode='bilinear'),
          upsample_mode='bilinear'), ValueError, 'give only upsample_cfg'),
])
def test_bad_options_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        HRNet(**kwargs)


def test_block_given_as_a_list_builds_as_the_tuple():
    # configs and --cfg-options give lists
    a = HRNet(dict(TINY_ARCH, block=['BASIC', 'BOTTLENECK', 'BASIC']))
    b = HRNet(dict(TINY_ARCH, block=('BASIC', 'BOTTLENECK', 'BASIC')))
    assert a.arch['block'] == ('BASIC', 'BOTTLENECK', 'BASIC')
    assert [k for k in a.state_dict()] == [k for k in b.state_dict()]
    with pytest.raises(ValueError, match="unknown HRNet block 'BASC'"):
        HRNet(dict(TINY_ARCH, block=['BASIC', 'BASC', 'BASIC']))


def test_deprecated_upsample_options_warn_and_build_the_same_model():
    with pytest.warns(FutureWarning, match=r"upsample_cfg=dict\(mode="
                      r"'bilinear', by_factor=True\)"):
        old = HRNet(TINY_ARCH, upsample_mode='bilinear',
                    upsample_by_factor=True).eval()
    new = HRNet(TINY_ARCH, upsample_cfg=dict(mode='bilinear',
                                             by_factor=True)).eval()
    assert old.upsample_cfg == new.upsample_cfg == dict(
        mode='bilinear', by_factor=True, align_corners=False)
    fusion = old.stage2[0].fuse_layers
    assert (fusion.upsample_mode, fusion.upsample_by_factor) == \
        ('bilinear', True)
    new.load_state_dict(old.state_dict(), strict=True)
    x = torch.randn(1, 3, 97, 61)
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(old(x), new(x)))


def test_fuse_is_a_deprecated_name_of_switch_to_deploy():
    m = HRNet(TINY_ARCH)
    with pytest.warns(FutureWarning, match=r'switch_to_deploy\(\)'):
        assert m.fuse() is m
    assert m.deploy


def test_scoped_name_builds_from_every_host():
    from mmdet.registry import MODELS as DET
    from mmpose.registry import MODELS as POSE
    from mmseg.registry import MODELS as SEG
    for registry in (POSE, SEG, DET):
        assert registry.get('hrformer_mm.HRNet') is HRNet
        assert registry.get('HRNet') is not HRNet  # the host keeps its own


def test_converter_passes_hrnet_checkpoints_through_with_a_report():
    from hrformer_mm.models.backbones.convert import (convert_checkpoint,
                                                      detect_source)
    ours = HRNet(TINY_ARCH)
    # the reference ImageNet release: backbone keys plus the classifier
    state = {f'module.{k}': v for k, v in ours.state_dict().items()}
    state['module.incre_modules.0.0.conv1.weight'] = torch.zeros(1)
    state['module.classifier.weight'] = torch.zeros(1)
    assert detect_source(state) == 'hrnet'
    new, report = convert_checkpoint(state)
    assert report.source == 'hrnet'
    assert sorted(report.dropped['ImageNet classification head']) == [
        'classifier.weight', 'incre_modules.0.0.conv1.weight']
    HRNet(TINY_ARCH).load_state_dict(new, strict=True)
    assert f'kept {len(new)} tensors' in report.summary()


def test_converter_renames_mmpose_0x_keypoint_head():
    from hrformer_mm.models.backbones.convert import convert_checkpoint
    state = {f'backbone.{k}': v
             for k, v in HRNet(TINY_ARCH).state_dict().items()}
    state['keypoint_head.final_layer.weight'] = torch.zeros(17, 4, 1, 1)
    new, report = convert_checkpoint(state)
    assert 'head.final_layer.weight' in new and report.renamed == 1
    assert report.kept == {'backbone': len(state) - 1, 'head': 1}
    assert "upsample_cfg=dict(mode='nearest')" in report.summary()


def test_converter_still_tells_hrformer_checkpoints_apart():
    from hrformer_mm.models.backbones import HRFormer
    from hrformer_mm.models.backbones.convert import detect_source
    state = HRFormer(dict(channels=(8, 16, 32, 64), num_heads=(1, 2, 4, 8),
                          num_modules=(1, 1, 1), num_blocks=1)).state_dict()
    assert detect_source(state) == 'mmpose'
