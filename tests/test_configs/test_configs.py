"""Every config builds into the model it promises: HRFormer, HRNet /
HRNetV2 (forward, and backward once per task, at reduced sizes, including
sizes that are not multiples of 32; outputs follow the neck's contract) and
HRViT (a training step at a reduced size, the paper's parameter counts)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from hrformer_mm.analysis import count_complexity
from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.models.backbones import HRViT
from hrformer_mm.models.layers import CrossShapedStripeAttention
from hrformer_mm.models.necks import HRNetV2Neck

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py')))
# HRNet configs (other backbones, mmdet too): the HRNet tests below;
# HRPVT (mmpose's PVT v2 backbone, SimCC heads of fixed input size):
# tests/test_models/test_hrpvt.py
# The *_fast configs compile their blocks with inductor at the first
# forward (minutes on 2 CPU cores): test_fast_config_is_its_base_compiled
CONFIGS = [c for c in CONFIGS
           if '_base_' not in c and not osp.basename(c).startswith(
               ('hrnet', 'hrpvt')) and not c.endswith('_fast.py')]


def build(path, pretrained=True):
    """``path``: absolute, or relative to configs/."""
    cfg, model = build_model_from_config(osp.join(ROOT, 'configs', path),
                                         pretrained=pretrained)
    return cfg, model.eval()


def _params(m):
    return sum(p.numel() for p in m.parameters())


def _params_m(m) -> float:
    return _params(m) / 1e6


def test_there_are_pose_and_seg_configs():
    names = {osp.relpath(c, osp.join(ROOT, 'configs')) for c in CONFIGS}
    for n in ('pose/hrformer_t_coco.py', 'pose/hrformer_s_coco.py',
              'pose/hrformer_b_coco.py', 'seg/hrformer_s_ocr_ade20k.py',
              'seg/hrformer_b_ocr_ade20k.py'):
        assert n in names


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(c, ROOT) for c in CONFIGS])
@pytest.mark.slow
def test_config_builds_and_runs_forward(path):
    cfg, model = build(path)
    assert cfg.custom_imports['imports'] == ['hrformer_mm']
    assert cfg.model.backbone.type.startswith('hrformer_mm.')
    with torch.no_grad():
        if cfg.default_scope == 'mmpose':
            w, h = cfg.codec['input_size']
            out = model(torch.randn(1, 3, h // 2, w // 2), None, mode='tensor')
            assert out.shape[1] == 17
        elif cfg.default_scope == 'mmpretrain':
            out = model(torch.randn(1, 3, 64, 64), mode='tensor')
            assert out.shape == (1, cfg.model.head.num_classes)
        else:
            heads = cfg.model.decode_head
            num_classes = (heads[-1] if isinstance(heads, list) else
                           heads)['num_classes']
            out = model(torch.randn(1, 3, 64, 64), mode='tensor')
            assert out.shape[1] == num_classes


def test_fast_config_is_its_base_compiled():
    """The fast path from the config alone: the same model (same state-dict
    keys, so the same checkpoints), its 44 transformer blocks compiled one
    by one, mmpose's per-iteration host-side accuracy off, batches copied
    without blocking from pinned memory."""
    cfg, fast = build(osp.join(ROOT, 'configs/pose/hrformer_b_coco_fast.py'))
    _, base = build(osp.join(ROOT, 'configs/pose/hrformer_b_coco.py'))
    assert fast.backbone.compiled_blocks == 44
    assert base.backbone.compiled_blocks == 0
    assert list(fast.state_dict()) == list(base.state_dict())
    assert fast.train_cfg == dict(compute_acc=False)
    assert fast.data_preprocessor._non_blocking
    assert cfg.train_dataloader.pin_memory


def test_hrformer_b_pose_gives_17_heatmaps_at_64x48():
    cfg, model = build(osp.join(ROOT, 'configs/pose/hrformer_b_coco.py'))
    with torch.no_grad():
        out = model(torch.randn(1, 3, 256, 192), None, mode='tensor')
    assert tuple(out.shape) == (1, 17, 64, 48)
    assert round(_params(model) / 1e6, 2) == 43.21
    assert cfg.model.backbone.drop_path_rate == 0.2


@pytest.mark.parametrize('name,arch,expected_m', [
    ('hrformer_t_coco.py', 'tiny', 2.52), ('hrformer_s_coco.py', 'small', 7.75)
])
def test_pose_config_parameter_counts(name, arch, expected_m):
    cfg, model = build(osp.join(ROOT, 'configs/pose', name))
    assert cfg.model.backbone.arch == arch
    assert round(_params(model) / 1e6, 2) == expected_m


@pytest.mark.parametrize('name,num_classes', [
    ('hrformer_s_ocr_cityscapes.py', 19),
    ('hrformer_b_ocr_w15_pascal_context.py', 59),
    ('hrformer_b_ocr_cocostuff.py', 171),
    ('hrformer_b_upernet_ade20k.py', 150),
])
def test_seg_configs_predict_their_dataset_classes(name, num_classes):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/seg', name))
    heads = cfg.model.decode_head
    heads = heads if isinstance(heads, list) else [heads]
    assert {h['num_classes'] for h in heads} == {num_classes}
    assert cfg.train_dataloader.dataset.type == {
        19: 'CityscapesDataset', 59: 'PascalContextDataset59',
        171: 'COCOStuffDataset', 150: 'ADE20KDataset'}[num_classes]


def test_large_window_variants_only_change_the_window():
    for name, k in (('hrformer_b_ocr_w13_ade20k.py', 13),
                    ('hrformer_b_ocr_w15_cityscapes.py', 15)):
        big = Config.fromfile(osp.join(ROOT, 'configs/seg', name))
        base = Config.fromfile(osp.join(
            ROOT, 'configs/seg', name.replace(f'_w{k}', '')))
        assert big.model.backbone.pop('window_sizes') == k
        assert big.model.to_dict() == base.model.to_dict()


def test_hrformer_b_ocr_gives_150_class_logits():
    cfg, model = build(osp.join(ROOT, 'configs/seg/hrformer_b_ocr_ade20k.py'))
    with torch.no_grad():
        out = model(torch.randn(1, 3, 128, 128), mode='tensor')
    # OCR predicts at 1/4 resolution; the segmentor upsamples in predict()
    assert tuple(out.shape) == (1, 150, 32, 32)
    assert cfg.model.decode_head[0].in_channels == [78, 156, 312, 624]
    # the reference segmentation release's auxiliary head: 3x3 conv to 512
    assert cfg.model.decode_head[0].channels == 512
    assert cfg.model.decode_head[0].kernel_size == 3
    assert cfg.crop_size == (520, 520)


# --- pose: mmpose's recipes with our backbones -------------------------------

TOPDOWN = 'body_2d_keypoint/topdown_heatmap/coco/'
# each pose zoo config and the mmpose recipe it inherits, unchanged outside
# the model (hrpvt_b2_heatmap_coco.py inherits mmpose's PVT v2 recipe and
# trains it on 8 x 32 images instead of 8 x 64)
MMPOSE_RECIPES = {
    'hrformer_s_coco.py':
    TOPDOWN + 'td-hm_hrformer-small_8xb32-210e_coco-256x192.py',
    'hrformer_s_coco_384x288.py':
    TOPDOWN + 'td-hm_hrformer-small_8xb32-210e_coco-384x288.py',
    'hrformer_b_coco.py':
    TOPDOWN + 'td-hm_hrformer-base_8xb32-210e_coco-256x192.py',
    'hrformer_b_coco_384x288.py':
    TOPDOWN + 'td-hm_hrformer-base_8xb32-210e_coco-384x288.py',
    'hrnet_w32_coco.py':
    TOPDOWN + 'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py',
    'hrnet_w48_coco.py':
    TOPDOWN + 'td-hm_hrnet-w48_8xb32-210e_coco-256x192.py',
    'hrnet_w48_coco_384x288.py':
    TOPDOWN + 'td-hm_hrnet-w48_8xb32-210e_coco-384x288.py',
    'hrnetv2_w18_wflw.py': 'face_2d_keypoint/topdown_heatmap/wflw/'
    'td-hm_hrnetv2-w18_8xb64-60e_wflw-256x256.py',
    'hrnetv2_w18_aflw.py': 'face_2d_keypoint/topdown_heatmap/aflw/'
    'td-hm_hrnetv2-w18_8xb64-60e_aflw-256x256.py',
    'hrnetv2_w18_cofw.py': 'face_2d_keypoint/topdown_heatmap/cofw/'
    'td-hm_hrnetv2-w18_8xb64-60e_cofw-256x256.py',
    'hrnetv2_w18_300w.py': 'face_2d_keypoint/topdown_heatmap/300w/'
    'td-hm_hrnetv2-w18_8xb64-60e_300w-256x256.py',
}
# the recipe outside the model: optimizer, schedule, loops, batch sizes,
# datasets and pipelines, metrics
RECIPE_KEYS = ('optim_wrapper', 'param_scheduler', 'train_cfg', 'val_cfg',
               'test_cfg', 'auto_scale_lr', 'train_dataloader',
               'val_dataloader', 'test_dataloader', 'val_evaluator',
               'test_evaluator')


def _plain(x):
    """Config data without mmengine's ``_scope_`` markers (a dict read
    through ``mmpose::`` carries one, the same file read by path none)."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items() if k != '_scope_'}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


@pytest.mark.parametrize('name,recipe', sorted(MMPOSE_RECIPES.items()))
def test_pose_config_is_its_mmpose_recipe_with_our_backbone(name, recipe):
    import mmpose
    path = osp.join(ROOT, 'configs/pose', name)
    assert Config._get_base_files(path) == [f'mmpose::{recipe}']
    ours = Config.fromfile(path)
    host = Config.fromfile(osp.join(osp.dirname(mmpose.__file__), '.mim',
                                    'configs', recipe))
    for key in RECIPE_KEYS:
        assert _plain(ours[key]) == _plain(host[key]), key
    assert _plain(ours.model.head.decoder) == _plain(host.codec)
    assert ours.model.backbone.type.startswith('hrformer_mm.')
    assert ours.custom_imports['imports'] == ['hrformer_mm']
    assert [h['type'] for h in ours.custom_hooks] == [
        'SyncBuffersHook', 'hrformer_mm.RNGStateHook']


# --- HRNet / HRNetV2 -------------------------------------------------------

# (h, w): one multiple of 32, one not
SIZES = [(64, 32), (72, 44)]




def _quarter(h, w):
    """Stream 0's size: two stride-2 3x3 convs."""
    return (h + 3) // 4, (w + 3) // 4


@pytest.mark.parametrize('name,arch,width,params_m', [
    ('pose/hrnet_w32_coco.py', 'w32', 32, 28.54),
    ('pose/hrnet_w48_coco.py', 'w48', 48, 63.60),
    ('pose/hrnet_w48_coco_384x288.py', 'w48', 48, 63.60),
])
@pytest.mark.slow
def test_pose_configs_read_out_v1(name, arch, width, params_m):
    """mmpose's pose HRNets: W32 28.54M, W48 63.60M with the 17-way head."""
    cfg, model = build(name, pretrained=False)
    assert cfg.model.backbone.arch == arch
    assert isinstance(model.neck, HRNetV2Neck) and model.neck.mode == 'v1'
    assert model.neck.out_channels == width
    assert round(_params_m(model), 2) == params_m
    for h, w in SIZES:
        with torch.no_grad():
            out = model(torch.randn(1, 3, h, w), None, mode='tensor')
        assert tuple(out.shape) == (1, 17, *_quarter(h, w))


def test_pose_384x288_uses_its_codec():
    cfg, _ = build('pose/hrnet_w48_coco_384x288.py', pretrained=False)
    assert cfg.model.head.decoder.input_size == (288, 384)
    assert cfg.model.head.decoder.sigma == 3


def test_wflw_config_reads_out_v2_into_98_heatmaps():
    cfg, model = build('pose/hrnetv2_w18_wflw.py', pretrained=False)
    assert cfg.train_dataloader.dataset.type == 'WFLWDataset'
    assert cfg.val_evaluator.type == 'NME'
    assert model.neck.mode == 'v2' and model.neck.out_channels == 270
    for h, w in SIZES:
        with torch.no_grad():
            out = model(torch.randn(1, 3, h, w), None, mode='tensor')
        assert tuple(out.shape) == (1, 98, *_quarter(h, w))


@pytest.mark.parametrize('name,dataset,points,norm', [
    ('aflw', 'AFLWDataset', 19, 'use_norm_item'),
    ('cofw', 'COFWDataset', 29, 'keypoint_distance'),
    ('300w', 'Face300WDataset', 68, 'keypoint_distance'),
])
@pytest.mark.slow
def test_landmark_configs_read_out_v2_into_their_heatmaps(name, dataset,
                                                          points, norm):
    """AFLW's NME is normalised by the face box, COFW's and 300W's by the
    outer eye corners; the model is WFLW's with the format's heatmaps."""
    cfg, model = build(f'pose/hrnetv2_w18_{name}.py', pretrained=False)
    assert cfg.train_dataloader.dataset.type == dataset
    assert cfg.test_evaluator.norm_mode == norm
    assert cfg.test_dataloader.dataset.ann_file in cfg.nme_variants.values()
    assert model.neck.mode == 'v2' and model.neck.out_channels == 270
    _, wflw = build('pose/hrnetv2_w18_wflw.py', pretrained=False)
    # only the heatmap conv differs: 271 weights + bias per heatmap
    assert _params(wflw) - _params(model) == (98 - points) * 271
    h, w = SIZES[1]
    with torch.no_grad():
        out = model(torch.randn(1, 3, h, w), None, mode='tensor')
    assert tuple(out.shape) == (1, points, *_quarter(h, w))

@pytest.mark.parametrize('name,num_classes,neck_width', [
    ('seg/hrnetv2_w48_ocr_cityscapes.py', 19, 720),
    ('seg/hrnetv2_w48_ocr_ade20k.py', 150, 720),
    ('seg/hrnetv2_w18_fcn_cityscapes.py', 19, 270),
    ('seg/hrformer_b_v2_fcn_ade20k.py', 150, 1170),
])
@pytest.mark.slow
def test_seg_configs_feed_the_v2_concatenation_to_the_heads(
        name, num_classes, neck_width):
    cfg, model = build(name, pretrained=False)
    assert model.neck.mode == 'v2' and model.neck.out_channels == neck_width
    heads = model.decode_head
    heads = heads if isinstance(heads, torch.nn.ModuleList) else [heads]
    for head in heads:  # the neck concatenates, not the heads
        assert head.input_transform is None
        assert head.in_channels == neck_width
    for h, w in SIZES:
        with torch.no_grad():
            out = model(torch.randn(1, 3, h, w), mode='tensor')
        assert tuple(out.shape) == (1, num_classes, *_quarter(h, w))


def test_hrnetv2_w48_ocr_matches_mmseg_parameter_count():
    """mmseg's ocrnet_hr48 (HRNetV2-W48 + OCR, 19 classes): 70.37M."""
    _, model = build('seg/hrnetv2_w48_ocr_cityscapes.py', pretrained=False)
    assert round(_params_m(model), 2) == 70.37


def test_det_config_builds_faster_rcnn_on_the_v2p_pyramid():
    """The whole detector builds; backbone + V2p neck + RPN run forward and
    backward.  The RoI head needs compiled mmcv ops (RoIAlign, NMS), which
    mmcv-lite does not have, so it is not run here."""
    cfg, model = build('det/hrnetv2p_w32_faster_rcnn_coco.py',
                       pretrained=False)
    assert type(model).__name__ == 'FasterRCNN'
    assert cfg.model.backbone.type == 'hrformer_mm.HRNet'
    neck = model.neck
    assert isinstance(neck, HRNetV2Neck) and neck.mode == 'v2p'
    assert neck.num_outs == 5 and neck.out_channels == 256
    # the anchor strides are the pyramid's: stream 0 is stride 4
    assert model.rpn_head.prior_generator.strides[0] == (4, 4)
    model.train()
    h, w = 72, 100
    feats = model.extract_feat(torch.randn(1, 3, h, w))
    qh, qw = _quarter(h, w)
    assert [tuple(f.shape) for f in feats] == [
        (1, 256, qh >> k, qw >> k) for k in range(5)]
    scores, deltas = model.rpn_head(feats)
    assert scores[0].shape[-2:] == feats[0].shape[-2:]
    (sum(s.sum() for s in scores) + sum(d.sum() for d in deltas)).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('name,kwargs', [
    ('pose/hrnet_w32_coco.py', dict(data_samples=None)),
    ('pose/hrnetv2_w18_wflw.py', dict(data_samples=None)),
    ('seg/hrnetv2_w18_fcn_cityscapes.py', {}),
])
def test_backward_reaches_the_stem(name, kwargs):
    _, model = build(name, pretrained=False)
    model.train()
    out = model(torch.randn(2, 3, 72, 44), mode='tensor', **kwargs)
    out.square().mean().backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_landmark_demo_config_is_small_and_reads_out_v2():
    cfg, model = build('pose/hrnetv2_demo_wflw.py', pretrained=False)
    assert cfg.train_dataloader.dataset.data_root == 'data/demo/wflw/'
    assert model.neck.mode == 'v2' and model.head.out_channels == 98
    assert _params_m(model) < 2
    for h, w in [(96, 96), (90, 70)]:
        with torch.no_grad():
            out = model(torch.randn(1, 3, h, w), None, mode='tensor')
        assert tuple(out.shape) == (1, 98, *_quarter(h, w))


def test_demo_script_rejects_an_unknown_family():
    import subprocess
    r = subprocess.run(['bash', osp.join(ROOT, 'tools', 'demo.sh'),
                        '--family', 'resnet'], capture_output=True,
                       text=True)
    assert r.returncode == 2
    assert 'unknown --family resnet' in r.stderr


# --- HRViT -----------------------------------------------------------------

# HRViT's dense configs (the ImageNet classifiers:
# tests/test_models/test_cls_models.py)
HRVIT_CONFIGS = sorted(c for c in glob.glob(osp.join(ROOT, 'configs', '*',
                                               'hrvit_*.py'))
                 if osp.basename(osp.dirname(c)) != 'cls')



def test_all_hrvit_configs_are_there():
    names = {osp.relpath(c, osp.join(ROOT, 'configs')) for c in HRVIT_CONFIGS}
    expected = {f'seg/hrvit_{v}_{head}_{data}.py'
                for v in ('b1', 'b2', 'b3')
                for head, data in (('segformer', 'ade20k'),
                                   ('segformer', 'cityscapes'),
                                   ('upernet', 'ade20k'))}
    expected |= {'pose/hrvit_b1_coco.py', 'seg/hrvit_demo_ade20k.py'}
    assert names == expected


@pytest.mark.parametrize('path', HRVIT_CONFIGS,
                         ids=[osp.relpath(c, ROOT) for c in HRVIT_CONFIGS])
@pytest.mark.slow
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
@pytest.mark.slow
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
