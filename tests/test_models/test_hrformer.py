"""HRFormer backbone: paper sizes, shapes, options every OpenMMLab backbone
has, and clear errors on bad input."""
import pytest
import torch

from hrformer_mm.models.backbones import HRFormer, HRFormerBlock

TINY_ARCH = dict(channels=(8, 16, 32, 64), num_heads=(1, 2, 4, 8),
                 num_modules=(1, 1, 1), num_blocks=1)


def _params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('arch,expected_m', [('tiny', 2.52), ('small', 7.75),
                                             ('base', 43.21)])
def test_pose_parameter_count_matches_paper(arch, expected_m):
    """Backbone as used for pose (out_indices=(0,)) plus the 1x1 head for 17
    keypoints: HRFormer paper Table 3: 2.52M, 7.75M, 43.21M."""
    m = HRFormer(arch, out_indices=(0, ))
    head = m.out_channels[0] * 17 + 17
    assert round((_params(m) + head) / 1e6, 2) == expected_m


def test_multiscale_output_shapes_and_channels():
    m = HRFormer('tiny').eval()
    with torch.no_grad():
        out = m(torch.randn(1, 3, 128, 96))
    assert [tuple(o.shape) for o in out] == [(1, 18, 32, 24), (1, 36, 16, 12),
                                             (1, 72, 8, 6), (1, 144, 4, 3)]
    assert m.out_channels == (18, 36, 72, 144)


def test_out_indices_select_streams():
    m = HRFormer(TINY_ARCH, out_indices=(1, 3)).eval()
    with torch.no_grad():
        out = m(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in out] == [16, 64]


@pytest.mark.parametrize('size', [(250, 190), (97, 61), (255, 191)])
def test_sizes_not_divisible_by_32_work(size):
    """Fusion resizes to the target stream, so odd sizes do not break it."""
    m = HRFormer(TINY_ARCH).eval()
    with torch.no_grad():
        out = m(torch.randn(1, 3, *size))
    h = (size[0] + 1) // 2
    h = (h + 1) // 2
    assert out[0].shape[-2] == h


def test_wrong_channel_count_is_named():
    m = HRFormer(TINY_ARCH)
    with pytest.raises(ValueError, match='3-channel input but got 4 channels'):
        m(torch.randn(1, 4, 64, 64))


def test_non_image_tensor_is_rejected():
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        HRFormer(TINY_ARCH)(torch.randn(3, 64, 64))


@pytest.mark.parametrize('bad', [(), (4, ), (0, 5)])
def test_invalid_out_indices_rejected(bad):
    with pytest.raises(ValueError, match='out_indices'):
        HRFormer(TINY_ARCH, out_indices=bad)


def test_unknown_arch_rejected():
    with pytest.raises(KeyError, match='unknown HRFormer arch "huge"'):
        HRFormer('huge')


def test_window_size_override_reaches_every_block():
    m = HRFormer(TINY_ARCH, window_sizes=13)
    sizes = {b.attn.window_size for b in m.modules()
             if isinstance(b, HRFormerBlock)}
    assert sizes == {13}
    table = m.stage2[0].branches[0][0].attn.attn.relative_position_bias_table
    assert table.shape == (25 * 25, 1)


def _same_model(old, new):
    """Same parameter names and shapes, and (same weights loaded) the same
    outputs on a tiny input."""
    assert {k: v.shape for k, v in old.state_dict().items()} == \
        {k: v.shape for k, v in new.state_dict().items()}
    old.load_state_dict(new.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(old.eval()(x), new.eval()(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize('old,new', [
    (dict(window_size=5, mlp_ratio=2), dict(window_sizes=5, mlp_ratios=2)),
    (dict(window_size=(3, 5, 5, 7), mlp_ratio=(2, 2, 4, 4)),
     dict(window_sizes=(3, 5, 5, 7), mlp_ratios=(2, 2, 4, 4))),
], ids=['scalar', 'per-stream'])
def test_singular_arch_keys_warn_and_build_the_plural_model(old, new):
    """The released spellings of the per-stream keys still build the same
    network, saying which key to write instead."""
    torch.manual_seed(0)
    with pytest.warns(FutureWarning) as record:
        legacy = HRFormer({**TINY_ARCH, **old})
    messages = ' '.join(str(w.message) for w in record)
    assert '"window_sizes"' in messages and '"mlp_ratios"' in messages
    current = HRFormer({**TINY_ARCH, **new})
    assert legacy.arch == current.arch
    _same_model(legacy, current)


def test_window_size_argument_warns_and_equals_window_sizes():
    with pytest.warns(FutureWarning, match='use "window_sizes"'):
        legacy = HRFormer(TINY_ARCH, window_size=13)
    current = HRFormer(TINY_ARCH, window_sizes=13)
    assert legacy.arch['window_sizes'] == (13, ) * 4
    _same_model(legacy, current)


@pytest.mark.parametrize('build', [
    lambda: HRFormer({**TINY_ARCH, 'window_size': 5, 'window_sizes': 7}),
    lambda: HRFormer(TINY_ARCH, window_size=5, window_sizes=7),
], ids=['arch', 'argument'])
def test_both_spellings_at_once_are_refused(build):
    with pytest.raises(ValueError, match='give only "window_sizes"'):
        build()


def test_drop_path_rises_linearly_over_all_blocks():
    m = HRFormer('small', drop_path_rate=0.3)
    # per stage: modules x 2 blocks, branch 0 holds the sequence
    rates = []
    for s in (2, 3, 4):
        for module in getattr(m, f'stage{s}'):
            for block in module.branches[0]:
                rates.append(getattr(block.drop_path, 'drop_prob', 0.0))
    assert len(rates) == 2 * (1 + 4 + 2)
    assert rates[0] == 0.0 and rates[-1] == pytest.approx(0.3)
    steps = torch.tensor(rates).diff()
    assert torch.allclose(steps, steps[0].expand_as(steps), atol=1e-6)


def test_frozen_stages_freeze_stem_and_stage1():
    m = HRFormer(TINY_ARCH, frozen_stages=1)
    m.train()
    for mod in (m.conv1, m.bn1, m.layer1, m.transition1):
        assert all(not p.requires_grad for p in mod.parameters())
    assert not m.bn1.training and not m.layer1.training
    assert all(p.requires_grad for p in m.stage2.parameters())
    assert m.stage2.training


def test_norm_eval_keeps_batchnorm_statistics():
    m = HRFormer(TINY_ARCH, norm_eval=True)
    m.train()
    before = m.bn1.running_mean.clone()
    m(torch.randn(2, 3, 64, 64))
    assert torch.equal(before, m.bn1.running_mean)


def test_gradient_checkpointing_gives_same_gradients():
    torch.manual_seed(0)
    a = HRFormer(TINY_ARCH)
    b = HRFormer(TINY_ARCH, with_cp=True)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 64, 64)
    for m in (a, b):
        m.train()
        sum(o.sum() for o in m(x)).backward()
    ga = a.stage3[0].branches[1][0].attn.attn.qkv.weight.grad
    gb = b.stage3[0].branches[1][0].attn.attn.qkv.weight.grad
    assert torch.allclose(ga, gb, atol=1e-5)


def test_no_weight_decay_lists_exactly_the_bias_tables():
    m = HRFormer(TINY_ARCH)
    names = m.no_weight_decay()
    assert len(names) == sum(
        1 for b in m.modules() if isinstance(b, HRFormerBlock))
    assert all(n.endswith('relative_position_bias_table') for n in names)


def test_without_rpe_there_is_no_bias_table():
    m = HRFormer(TINY_ARCH, with_rpe=False)
    assert not any('relative_position' in n for n, _ in
                   m.named_parameters())


def test_state_dict_keys_follow_mmpose_names():
    keys = set(HRFormer(TINY_ARCH).state_dict())
    for k in ('conv1.weight', 'bn2.running_var', 'layer1.0.downsample.0.weight',
              'transition1.1.0.0.weight',
              'stage2.0.branches.0.0.attn.attn.qkv.weight',
              'stage2.0.branches.1.0.ffn.dw3x3.weight',
              'stage4.0.fuse_layers.3.0.2.0.weight'):
        assert k in keys, k
    assert not any(k.endswith('relative_position_index') for k in keys)
