"""HRViT: the backbone against the public code (golden outputs, parameter
counts), its building blocks, the checkpoint converter and the usual
backbone options."""
import gzip
import json
import os.path as osp

import pytest
import torch
import torch.nn as nn

from hrformer_mm.analysis.parity import hrvit as parity
from hrformer_mm.models.backbones import HRViT, HRViTBlock
from hrformer_mm.models.backbones.hrvit_weights import (
    hrvit_checkpoint_filter, is_hrvit_reference)
from hrformer_mm.models.layers import (CrossShapedStripeAttention,
                                       DiversityEnhancedShortcut, MixCFN,
                                       MultiResolutionFusion, des_factors,
                                       stripe_padding_mask, stripe_partition,
                                       stripe_reverse)

from e2e_utils import ROOT, load_tool

# four modules, one block per branch: fast, and every kind of fusion path
TINY = dict(channels=(16, 32, 32, 32), head_dim=8, mlp_ratios=(2, 2, 2, 2),
            stripe_widths=(1, 2, 3, 3),
            blocks=((1, ), (1, 1), (1, 1, 1), (1, 1, 1, 1)))


def _params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize('arch,expected_m', [('b1', 7.758), ('b2', 20.311),
                                             ('b3', 25.508)])
def test_parameter_counts_match_the_public_code(arch, expected_m):
    # b2 with its 240-wide third branch, as the public backbone builds it
    assert round(_params(HRViT(arch)) / 1e6, 3) == expected_m


def test_golden_outputs_of_the_public_code():
    """Seeded weights in the public key scheme, converted and loaded: the
    outputs the public code gave once (tools/analysis/parity_hrvit.py
    --write-golden) come back within 1e-5."""
    with gzip.open(osp.join(ROOT, 'tests/data/hrvit_golden.json.gz'),
                   'rt') as f:
        golden = json.load(f)
    state = parity.golden_state(golden['keys'], golden['seed'])
    assert is_hrvit_reference(state)
    model = parity.ours_from_reference_state(golden['arch'], state)
    with torch.no_grad():
        outputs = model(parity.golden_input())
    assert len(outputs) == len(golden['outputs']) == 4
    for got, record in zip(outputs, golden['outputs']):
        expected = parity.decode(record)
        assert got.shape == expected.shape
        assert (got - expected).abs().max() < 1e-5


def test_converter_renames_reference_keys_of_a_bare_backbone():
    state = {
        'module.stem.conv1.weight': torch.zeros(1),
        'features.4.blocks.2.0.0.weight': torch.zeros(1),
        'features.5.patch_embed.1.proj.0.weight': torch.zeros(1),
        'features.5.patch_embed.1.proj.1.bias': torch.zeros(1),
        'features.5.branches.2.3.attn.to_qkv.weight': torch.zeros(1),
        'features.5.branches.2.3.attn.attn_bn.running_var': torch.zeros(1),
        'features.5.branches.2.3.attn.parallel_conv.1.weight': torch.zeros(1),
        'features.5.branches.2.3.ffn.conv.conv_5.weight': torch.zeros(1),
        'features.11.norm.3.bias': torch.zeros(1),
        'head.classifier.weight': torch.zeros(1),
    }
    new, report = hrvit_checkpoint_filter(state, whole_model=False)
    assert sorted(new) == sorted([
        'stem.conv1.weight',
        'stages.2.fusion.2.0.0.weight',
        'stages.2.branches.1.patch_embed.pwconv.weight',
        'stages.2.branches.1.patch_embed.dwconv.bias',
        'stages.2.branches.2.blocks.3.attn.qv.weight',
        'stages.2.branches.2.blocks.3.attn.norm.running_var',
        'stages.2.branches.2.blocks.3.attn.value_conv.weight',
        'stages.2.branches.2.blocks.3.ffn.dwconv5.weight',
        'stages.5.branches.3.norm.bias',
    ])
    assert report.dropped['ImageNet classification head'] == [
        'head.classifier.weight']


def test_converter_keeps_the_heads_of_a_whole_model():
    """In a whole model ``head.`` is the task head (a pose model's), not the
    ImageNet classifier: only the backbone's keys change."""
    state = {
        'backbone.features.1.branches.0.0.attn_norm.weight': torch.zeros(1),
        'backbone.features.1.branches.0.0.attn.to_qkv.weight': torch.zeros(1),
        'head.final_layer.weight': torch.zeros(1),
        'decode_head.conv_seg.weight': torch.zeros(1),
    }
    new, report = hrvit_checkpoint_filter(state)
    assert sorted(new) == [
        'backbone.stages.0.branches.0.blocks.0.attn.qv.weight',
        'backbone.stages.0.branches.0.blocks.0.norm1.weight',
        'decode_head.conv_seg.weight', 'head.final_layer.weight']
    assert not report.dropped and report.renamed == 2


def test_convert_tool_writes_a_checkpoint_that_loads(tmp_path):
    with gzip.open(osp.join(ROOT, 'tests/data/hrvit_golden.json.gz'),
                   'rt') as f:
        golden = json.load(f)
    state = parity.golden_state(golden['keys'], 1)
    src = tmp_path / 'ref.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v
                                for k, v in state.items()}), src)
    dst = tmp_path / 'ours.pth'
    load_tool('convert_checkpoint.py').main([str(src), str(dst)])
    converted = torch.load(dst, weights_only=True)
    assert converted['meta']['hrformer_mm']['source'] == 'hrvit'
    model = HRViT(golden['arch'])
    backbone = {k[len('backbone.'):]: v
                for k, v in converted['state_dict'].items()}
    model.load_state_dict(backbone, strict=True)


def test_b1_first_branch_has_one_16_channel_head_per_direction():
    attn = HRViT('b1').stages[0].branches[0].blocks[0].attn
    assert (attn.num_heads, attn.head_dim, attn.stripe_width) == (1, 16, 1)
    assert attn.scale == pytest.approx(16**-0.5)
    attn3 = HRViT('b2').stages[2].branches[2].blocks[0].attn
    assert (attn3.num_heads, attn3.head_dim, attn3.stripe_width) == (5, 24, 7)


def test_attention_norm_starts_at_zero_so_the_block_starts_as_identity_des():
    attn = CrossShapedStripeAttention(16, head_dim=8, stripe_width=2)
    assert attn.norm.weight.abs().sum() == 0
    assert attn.norm.bias.abs().sum() == 0
    model = HRViT(TINY)
    model.init_weights()
    norms = [m.norm for m in model.modules()
             if isinstance(m, CrossShapedStripeAttention)]
    assert len(norms) == 10
    assert all(n.weight.abs().sum() == 0 and n.bias.abs().sum() == 0
               for n in norms)
    with torch.no_grad():
        assert attn.eval()(torch.randn(1, 5, 5, 16)).abs().max() == 0


@pytest.mark.parametrize('size', [(5, 7), (4, 9), (2, 8)])
def test_with_pad_mask_padded_positions_do_not_change_real_outputs(size):
    """Stripe width 3 on a 5x7 map pads 1 row (horizontal half) and 2
    columns (vertical half); what the padded tokens hold must not matter."""
    torch.manual_seed(0)
    attn = CrossShapedStripeAttention(16, head_dim=4, stripe_width=3).eval()
    nn.init.ones_(attn.norm.weight)
    garbage_attn = CrossShapedStripeAttention(16, head_dim=4, stripe_width=3,
                                              pad_value=50.).eval()
    garbage_attn.load_state_dict(attn.state_dict())
    unmasked_attn = CrossShapedStripeAttention(
        16, head_dim=4, stripe_width=3, with_pad_mask=False,
        pad_value=50.).eval()
    unmasked_attn.load_state_dict(attn.state_dict())
    x = torch.randn(2, *size, 16)
    with torch.no_grad():
        zeros = attn(x)
        garbage = garbage_attn(x)
        unmasked = unmasked_attn(x)
    assert torch.allclose(zeros, garbage, atol=1e-6)
    # the test can see padding: without the mask the same change shows
    assert (unmasked - zeros).abs().max() > 1e-2


def test_stripe_partition_round_trip_and_mask():
    x = torch.randn(2, 6, 5, 8)
    parts = stripe_partition(x, 3, 2)
    assert parts.shape == (2, 2, 2, 15, 4)
    assert torch.equal(stripe_reverse(parts, 3, 5), x)
    mask = stripe_padding_mask(4, 6, 3, 5)
    # last stripe: one real row of 5 tokens, two padded rows
    assert mask.shape == (2, 1, 1, 15)
    assert mask[0].all() and mask[1, 0, 0].tolist() == [True] * 5 + [False] * 10


@pytest.mark.parametrize('channels,expected', [(48, (8, 6, 6)),
                                               (240, (16, 15, 15)),
                                               (512, (32, 16, 16)),
                                               (32, (8, 4, 4))])
def test_des_factor_sizes(channels, expected):
    assert des_factors(channels, channels) == expected
    des = DiversityEnhancedShortcut(channels)
    assert des.proj_right.weight.shape == (expected[0], expected[0])
    assert des.proj_left.weight.shape == (expected[2], expected[1])


def test_des_is_a_kronecker_factorised_map_with_gelu_between():
    des = DiversityEnhancedShortcut(48)
    x = torch.randn(3, 48)
    inner = torch.nn.functional.gelu(
        des.proj_right(x.view(3, 6, 8)).transpose(1, 2))
    expected = des.proj_left(inner).transpose(1, 2).reshape(3, 48)
    assert torch.allclose(des(x), expected)


def test_mixcfn_splits_the_hidden_channels_into_3x3_and_5x5_halves():
    ffn = MixCFN(16, 64)
    assert ffn.dwconv3.kernel_size == (3, 3) and ffn.dwconv3.groups == 32
    assert ffn.dwconv5.kernel_size == (5, 5) and ffn.dwconv5.groups == 32
    assert ffn(torch.randn(1, 5, 6, 16)).shape == (1, 5, 6, 16)


def test_fusion_downsamples_directly_and_builds_the_new_branch():
    fusion = HRViT('b1').stages[4].fusion  # 3 inputs -> 4 outputs
    assert len(fusion) == 4
    new = fusion[3]
    for j, (kernel, stride) in enumerate([(9, 8), (5, 4), (3, 2)]):
        dw, bn, pw, _ = new[j]
        assert dw.kernel_size == (kernel, kernel) and dw.stride == (stride, ) * 2
        assert dw.bias is None and dw.groups == dw.in_channels
        assert pw.kernel_size == (1, 1) and pw.bias is not None
        assert pw.out_channels == 256
    assert fusion[0][2][0].bias is not None  # up path: 1x1 conv with bias
    # module 1: identity + GELU on the 64-channel stem output, no weights
    first = HRViT('b1').stages[0]
    assert _params(first.fusion) == 0
    assert first.branches[0].patch_embed.pwconv.in_channels == 64


def test_fusion_upsamples_to_the_target_size():
    fusion = MultiResolutionFusion([8, 16], downsample='direct',
                                   upsample_cfg=dict(mode='nearest'),
                                   act_cfg=dict(type='GELU'),
                                   pointwise_bias=True)
    out = fusion([torch.randn(1, 8, 9, 7), torch.randn(1, 16, 5, 4)])
    assert [tuple(o.shape) for o in out] == [(1, 8, 9, 7), (1, 16, 5, 4)]


def test_drop_path_schedule_spans_the_largest_block_count_per_module():
    model = HRViT('b1', drop_path_rate=0.21)
    rates = [[[b.drop_path.drop_prob if hasattr(b.drop_path, 'drop_prob')
               else 0. for b in branch.blocks] for branch in stage.branches]
             for stage in model.stages]
    # 1 + 1 + 6 + 6 + 6 + 2 = 22 steps of 0.01
    assert rates[0] == [[0.]]
    assert rates[2][2][5] == pytest.approx(0.07)
    assert rates[4][0] == [pytest.approx(0.14)]
    assert rates[4][3] == [pytest.approx(0.14), pytest.approx(0.15)]
    assert rates[5][3][1] == pytest.approx(0.21)


@pytest.mark.parametrize('size', [(32, 32), (50, 37)])
def test_any_input_size_forward_and_backward(size):
    model = HRViT(TINY, drop_path_rate=0.1)
    x = torch.randn(2, 3, *size)
    outs = model(x)
    h, w = -(-size[0] // 4), -(-size[1] // 4)
    assert [tuple(o.shape) for o in outs] == [
        (2, 16, h, w), (2, 32, -(-h // 2), -(-w // 2)),
        (2, 32, -(-h // 4), -(-w // 4)), (2, 32, -(-h // 8), -(-w // 8))]
    sum(o.mean() for o in outs).backward()
    assert all(p.grad is not None for p in model.parameters()
               if p.requires_grad)


def test_out_indices_zero_builds_only_what_it_returns():
    full, pose = HRViT('b1'), HRViT('b1', out_indices=(0, ))
    assert pose.out_channels == (32, )
    assert len(pose.stages[-1].branches) == 1
    assert len(pose.stages[-1].fusion) == 1
    with torch.no_grad():
        outs = pose.eval()(torch.randn(1, 3, 32, 32))
    assert len(outs) == 1 and outs[0].shape == (1, 32, 8, 8)
    assert _params(pose) < _params(full)


def test_frozen_stages_and_norm_eval():
    model = HRViT(TINY, frozen_stages=1, norm_eval=True)
    model.train()
    assert not any(p.requires_grad for p in model.stem.parameters())
    assert not any(p.requires_grad for p in model.stages[0].parameters())
    assert all(p.requires_grad for p in model.stages[1].parameters())
    assert not model.stem.training and not model.stages[0].training
    bns = [m for m in model.stages[1].modules()
           if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    assert model.stages[1].branches[0].blocks[0].norm1.training
    with pytest.raises(ValueError, match='frozen_stages'):
        HRViT(TINY, frozen_stages=5)


def test_with_cp_gives_the_same_gradients():
    torch.manual_seed(0)
    plain = HRViT(TINY).eval()
    ckpt = HRViT(TINY, with_cp=True).eval()
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 32, 32)
    for m in (plain, ckpt):
        sum(o.sum() for o in m(x)).backward()
    name, p = next((n, p) for n, p in plain.named_parameters()
                   if n.endswith('attn.qv.weight'))
    assert torch.allclose(p.grad, dict(ckpt.named_parameters())[name].grad,
                          atol=1e-5)


def test_bad_input_and_arch_are_reported():
    with pytest.raises(ValueError, match='3-channel input but got 4'):
        HRViT(TINY)(torch.randn(1, 4, 32, 32))
    with pytest.raises(KeyError, match='unknown HRViT arch'):
        HRViT('b4')
    with pytest.raises(ValueError, match='out_indices'):
        HRViT(TINY, out_indices=(4, ))


def test_registered_for_mmseg_and_mmpose():
    from mmpose.registry import MODELS as POSE
    from mmseg.registry import MODELS as SEG

    from hrformer_mm.registry import MODELS
    import hrformer_mm  # noqa: F401
    assert MODELS.get('HRViT') is HRViT
    assert SEG.build(dict(type='hrformer_mm.HRViT', arch=TINY)).__class__ \
        is HRViT
    assert POSE.build(dict(type='hrformer_mm.HRViT', arch=TINY)).__class__ \
        is HRViT


def test_block_is_a_residual_on_channels_last_maps():
    torch.manual_seed(0)
    block = HRViTBlock(16, 8, 2).eval()
    x = torch.randn(1, 6, 5, 16)  # (B, H, W, C); 5 is padded to the stripe
    with torch.no_grad():
        y = block(x)
        attn_only = x + block.attn(block.norm1(x)) + block.des(x)
        expected = attn_only + block.ffn(block.norm2(attn_only))
    assert y.shape == x.shape
    assert not torch.allclose(y, x)
    torch.testing.assert_close(y, expected)
