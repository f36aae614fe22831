"""Every config builds into the model it promises."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from hrformer_mm.engine.launch import _replace_syncbn

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py')))
CONFIGS = [c for c in CONFIGS if '_base_' not in c]


def build(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    _replace_syncbn(cfg.model)  # SyncBN cannot run forward on the CPU
    if cfg.default_scope == 'mmpose':
        from mmpose.registry import MODELS
    else:
        from mmseg.registry import MODELS
    model = MODELS.build(cfg.model)
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
    assert cfg.model.backbone.type == 'hrformer_mm.HRFormer'
    with torch.no_grad():
        if cfg.default_scope == 'mmpose':
            w, h = cfg.codec['input_size']
            out = model(torch.randn(1, 3, h // 2, w // 2), None, mode='tensor')
            assert out.shape[1] == 17
        else:
            out = model(torch.randn(1, 3, 64, 64), mode='tensor')
            assert out.shape[1] == 150


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


def test_hrformer_b_ocr_gives_150_class_logits():
    cfg, model = build(osp.join(ROOT, 'configs/seg/hrformer_b_ocr_ade20k.py'))
    with torch.no_grad():
        out = model(torch.randn(1, 3, 128, 128), mode='tensor')
    # OCR predicts at 1/4 resolution; the segmentor upsamples in predict()
    assert tuple(out.shape) == (1, 150, 32, 32)
    assert cfg.model.decode_head[0].in_channels == [78, 156, 312, 624]
    assert cfg.model.decode_head[0].channels == 1170
    assert cfg.crop_size == (520, 520)
