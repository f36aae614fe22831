"""The HRFormer segmentation configs compute what the reference segmentation
release computes (github.com/HRNet/HRFormer, ``seg/``).

``tests/data/hrformer_seg_golden.pt`` was recorded from the reference code
itself by ``tools/analysis/parity_reference_seg.py --write-golden``: a small
model (HRFormer-S widths, one module per stage) with seeded weights in the
reference key scheme, its four backbone streams and both heads' logits at
1/4, at 32x32 and 40x24 (not a multiple of 32).  The file holds the
reference's key names and shapes and the seed, so the weights are
regenerated here, converted by the checkpoint converter and loaded strictly
into ``configs/seg/hrformer_s_ocr_ade20k.py``.
"""
import os.path as osp

import pytest
import torch

from hrformer_mm.analysis.parity import seg as parity
from hrformer_mm.models.backbones import HRFormer
from hrformer_mm.testing import seeded_state

from e2e_utils import ROOT

GOLDEN = osp.join(ROOT, 'tests', 'data', 'hrformer_seg_golden.pt')
CONFIG = osp.join(ROOT, 'configs', 'seg', 'hrformer_s_ocr_ade20k.py')


@pytest.fixture(scope='module')
def golden():
    return torch.load(GOLDEN, weights_only=True)


def _converted_model(golden):
    state = seeded_state(golden['spec'], golden['seed'])
    model, report = parity.build_ours(CONFIG, state, golden['arch'],
                                      golden['num_classes'])
    return model, report


def test_converter_reports_the_segmentation_release(golden):
    _, report = _converted_model(golden)
    assert report.release == 'segmentation'
    # aux_head.0, conv3x3.0, f_pixel.{0,2}, f_object.{0,2}, f_down.0, f_up.0,
    # conv_bn_dropout.0: every reference conv in front of a BatchNorm
    assert report.folded_biases == 9
    assert 'segmentation release' in report.summary()


def test_converted_model_reproduces_the_reference_outputs(golden):
    model, _ = _converted_model(golden)
    inputs = parity.golden_inputs(golden['seed'])
    assert [tuple(x.shape[-2:]) for x in inputs] == \
        [tuple(s) for s in golden['sizes']]
    for x, expected in zip(inputs, golden['outputs']):
        diffs = parity.max_diffs(expected, parity.our_outputs(model, x))
        assert set(diffs) == {'stream0', 'stream1', 'stream2', 'stream3',
                              'aux4', 'out4'}
        assert max(diffs.values()) < 1e-5, diffs


def test_bilinear_fusion_does_not_reproduce_the_segmentation_release(
        golden):
    """The pose release's fusion (bilinear) is measurably not what the
    segmentation checkpoints were trained with: the option matters."""
    model, _ = _converted_model(golden)
    for module in model.backbone.modules():
        if hasattr(module, 'upsample_by_factor'):
            module.upsample_mode, module.upsample_by_factor = 'bilinear', False
            module.align_corners = False
    x = parity.golden_inputs(golden['seed'])[0]
    diffs = parity.max_diffs(golden['outputs'][0], parity.our_outputs(model, x))
    assert diffs['stream0'] > 1e-3


@pytest.mark.slow
def test_seg_release_upsample_cfg_is_the_default_of_every_hrformer_seg_config():
    import glob

    from mmengine.config import Config
    configs = [c for c in glob.glob(osp.join(ROOT, 'configs', 'seg', '*.py'))
               if Config.fromfile(c).model.backbone.type.endswith('HRFormer')]
    assert len(configs) >= 14
    for c in configs:
        backbone = Config.fromfile(c).model.backbone
        assert backbone.upsample_cfg == HRFormer.SEG_RELEASE_UPSAMPLE, c


def test_pose_configs_keep_the_bilinear_fusion():
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'pose',
                                   'hrformer_b_coco.py'))
    assert 'upsample_cfg' not in cfg.model.backbone
    backbone = HRFormer('tiny', out_indices=(0, ))
    fusion = backbone.stage2[0].fuse_layers
    assert (fusion.upsample_mode, fusion.upsample_by_factor) == \
        ('bilinear', False)


def test_unknown_upsample_cfg_key_is_an_error():
    with pytest.raises(KeyError, match='upsample_cfg'):
        HRFormer('tiny', upsample_cfg=dict(mode='nearest', scale=2))


@pytest.mark.parametrize('config,paper_m', [
    ('hrformer_s_ocr_cityscapes.py', 13.5),
    ('hrformer_b_ocr_cityscapes.py', 56.0),
])
def test_ocr_models_have_the_papers_parameter_counts(config, paper_m):
    """HRFormer paper (Cityscapes table): S+OCR 13.5M, B+OCR 56.0M.  Only
    the reference heads (3x3 auxiliary conv to 512) give these; mmseg's
    HRNet-OCR auxiliary head (1x1 conv) would not."""
    from hrformer_mm.engine.launch import build_model_from_config
    _, model = build_model_from_config(
        osp.join(ROOT, 'configs', 'seg', config))
    params = sum(p.numel() for p in model.parameters()) / 1e6
    assert abs(params - paper_m) / paper_m < 0.005, params
