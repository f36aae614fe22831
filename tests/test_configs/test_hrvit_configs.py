"""Every HRViT config builds, trains a step at a reduced size and matches
the paper's parameter counts."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from hrformer_mm.analysis import count_complexity
from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.models.backbones import HRViT
from hrformer_mm.models.layers import CrossShapedStripeAttention

from e2e_utils import ROOT

# dense configs (the ImageNet classifiers: tests/test_models/test_cls_models.py)
CONFIGS = sorted(c for c in glob.glob(osp.join(ROOT, 'configs', '*',
                                               'hrvit_*.py'))
                 if osp.basename(osp.dirname(c)) != 'cls')


def _params_m(model) -> float:
    return sum(p.numel() for p in model.parameters()) / 1e6


def test_all_hrvit_configs_are_there():
    names = {osp.relpath(c, osp.join(ROOT, 'configs')) for c in CONFIGS}
    expected = {f'seg/hrvit_{v}_{head}_{data}.py'
                for v in ('b1', 'b2', 'b3')
                for head, data in (('segformer', 'ade20k'),
                                   ('segformer', 'cityscapes'),
                                   ('upernet', 'ade20k'))}
    expected |= {'pose/hrvit_b1_coco.py', 'seg/hrvit_demo_ade20k.py'}
    assert names == expected


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(c, ROOT) for c in CONFIGS])
def test_config_trains_a_step_at_a_size_not_divisible_by_32(path):
    """The config's model with its variant's widths, heads and losses; one
    block per branch in four modules (instead of 26-30 blocks in six) keeps
    this fast on 2 cores.  Full builds: the parameter tests below."""
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.type == 'hrformer_mm.HRViT'
    cfg.model.backbone.arch = dict(
        HRViT.arch_zoo[cfg.model.backbone.arch],
        blocks=((1, ), (1, 1), (1, 1, 1), (1, 1, 1, 1)))
    cfg, model = build_model_from_config(cfg)
    model.train()
    if cfg.default_scope == 'mmpose':
        out = model(torch.randn(2, 3, 72, 40), None, mode='tensor')
        assert out.shape == (2, 17, 18, 10)
    else:
        heads = cfg.model.decode_head
        out = model(torch.randn(2, 3, 72, 56), mode='tensor')
        assert out.shape == (2, heads.num_classes, 18, 14)
    out.mean().backward()
    grads = [p.grad for p in model.backbone.parameters()]
    assert all(g is not None for g in grads)


@pytest.mark.parametrize('variant,head,paper_m,ours_m', [
    ('b1', 'segformer', 8.2, 8.18), ('b2', 'segformer', 20.8, 20.81),
    ('b3', 'segformer', 28.7, 28.72), ('b1', 'upernet', 35.9, 35.95),
    ('b2', 'upernet', 49.7, 49.70), ('b3', 'upernet', 55.4, 55.82)
])
def test_ade20k_models_match_the_paper_parameters_within_3_percent(
        variant, head, paper_m, ours_m):
    # b3 + UPerNet counts to 55.82M against the paper's 55.4M (0.8%)
    _, model = build_model_from_config(
        osp.join(ROOT, f'configs/seg/hrvit_{variant}_{head}_ade20k.py'))
    assert round(_params_m(model), 2) == ours_m
    assert _params_m(model) == pytest.approx(paper_m, rel=0.03)


@pytest.mark.parametrize('variant,channels,drop_path,head_channels', [
    ('b1', [32, 64, 128, 256], 0.1, 256),
    ('b2', [48, 96, 240, 384], 0.2, 256),
    ('b3', [64, 128, 256, 512], 0.3, 768),
])
def test_segformer_ade20k_recipe(variant, channels, drop_path,
                                 head_channels):
    cfg = Config.fromfile(
        osp.join(ROOT, f'configs/seg/hrvit_{variant}_segformer_ade20k.py'))
    assert cfg.model.backbone.arch == variant
    assert cfg.model.backbone.drop_path_rate == drop_path
    assert cfg.model.decode_head.in_channels == channels
    assert cfg.model.decode_head.channels == head_channels
    assert cfg.model.decode_head.dropout_ratio == 0.1
    assert cfg.crop_size == (512, 512)
    assert cfg.train_cfg.max_iters == 160000
    assert cfg.optim_wrapper.optimizer.lr == 6e-5
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.01
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.head.lr_mult == 10.
    assert cfg.param_scheduler[0].end == 1500
    assert cfg.param_scheduler[1].type == 'PolyLR'


@pytest.mark.parametrize('variant,aux_channels', [('b1', 128), ('b2', 240),
                                                  ('b3', 256)])
def test_upernet_configs_build_their_own_variant(variant, aux_channels):
    cfg = Config.fromfile(
        osp.join(ROOT, f'configs/seg/hrvit_{variant}_upernet_ade20k.py'))
    assert cfg.model.backbone.arch == variant
    assert cfg.model.decode_head.type == 'UPerHead'
    assert cfg.model.decode_head.channels == 512
    assert cfg.model.auxiliary_head.in_channels == aux_channels


def test_cityscapes_configs_use_1024_crops_and_sliding_windows():
    for variant in ('b1', 'b2', 'b3'):
        cfg = Config.fromfile(osp.join(
            ROOT, f'configs/seg/hrvit_{variant}_segformer_cityscapes.py'))
        assert cfg.crop_size == (1024, 1024)
        assert cfg.model.decode_head.num_classes == 19
        assert cfg.model.test_cfg == dict(mode='slide', crop_size=(1024, 1024),
                                          stride=(768, 768))


def test_segformer_mlp_head_projections_are_plain_linear_layers():
    _, model = build_model_from_config(
        osp.join(ROOT, 'configs/seg/hrvit_b1_segformer_ade20k.py'))
    head = model.decode_head
    for conv in head.convs:
        assert conv.norm_cfg is None and not conv.with_activation
        assert conv.conv.bias is not None and conv.conv.kernel_size == (1, 1)
    assert head.fusion_conv.with_norm and head.fusion_conv.with_activation
    assert head.fusion_conv.conv.in_channels == 4 * 256


def test_demo_config_has_the_hrformer_demo_budget():
    ours = Config.fromfile(osp.join(ROOT, 'configs/seg/hrvit_demo_ade20k.py'))
    base = Config.fromfile(
        osp.join(ROOT, 'configs/seg/hrformer_demo_ade20k.py'))
    assert ours.model.backbone.arch == 'b1'
    for key in ('train_cfg', 'param_scheduler', 'optim_wrapper',
                'train_dataloader', 'crop_size'):
        assert ours[key] == base[key], key


def test_stripe_attention_products_are_counted_in_the_complete_convention():
    # 5x5 map, stripe width 2, 8 channels: horizontal half pads to 6 rows
    # (3 stripes of 10 tokens), vertical half to 6 columns (3 of 10)
    m = CrossShapedStripeAttention(8, head_dim=4, stripe_width=2).eval()
    x = torch.zeros(1, 5, 5, 8)
    r = count_complexity(m, lambda: m(x))
    linear = 8 * 16 + 8 * 8  # qv + proj, per token
    conv = 25 * 8 * 9  # depthwise 3x3 on the value
    assert r.paper_macs == 25 * linear + conv
    assert r.complete_macs == r.paper_macs + 2 * (2 * 3 * 10 * 10 * 4)
