"""Every config builds into the model it promises."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from hrformer_mm.engine.launch import build_model_from_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py')))
# HRNet configs (other backbones, mmdet too): tests/test_configs/test_configs_hrnet.py;
# HRPVT (mmpose's PVT v2 backbone, SimCC heads of fixed input size):
# tests/test_models/test_hrpvt.py
# The *_fast configs compile their blocks with inductor at the first
# forward (minutes on 2 CPU cores): test_fast_config_is_its_base_compiled
CONFIGS = [c for c in CONFIGS
           if '_base_' not in c and not osp.basename(c).startswith(
               ('hrnet', 'hrpvt')) and not c.endswith('_fast.py')]


def build(path):
    cfg, model = build_model_from_config(path, pretrained=True)
    return cfg, model.eval()


def _params(m):
    return sum(p.numel() for p in m.parameters())


def test_there_are_pose_and_seg_configs():
    names = {osp.relpath(c, osp.join(ROOT, 'configs')) for c in CONFIGS}
    for n in ('pose/hrformer_t_coco.py', 'pose/hrformer_s_coco.py',
              'pose/hrformer_b_coco.py', 'seg/hrformer_s_ocr_ade20k.py',
              'seg/hrformer_b_ocr_ade20k.py'):
        assert n in names


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(c, ROOT) for c in CONFIGS])
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
        assert big.model.backbone.pop('window_size') == k
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
