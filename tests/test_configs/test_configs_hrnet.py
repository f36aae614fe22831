"""Every HRNet / HRNetV2 config builds into the model it promises and runs
forward (and backward, once per task) at a reduced size, including sizes
that are not multiples of 32; outputs follow the neck's contract."""
import os.path as osp

import pytest
import torch

from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.models.necks import HRNetV2Neck

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# (h, w): one multiple of 32, one not
SIZES = [(64, 32), (72, 44)]


def build(name):
    cfg, model = build_model_from_config(osp.join(ROOT, 'configs', name))
    return cfg, model.eval()


def _params_m(m):
    return sum(p.numel() for p in m.parameters()) / 1e6


def _quarter(h, w):
    """Stream 0's size: two stride-2 3x3 convs."""
    return (h + 3) // 4, (w + 3) // 4


@pytest.mark.parametrize('name,arch,width,params_m', [
    ('pose/hrnet_w32_coco.py', 'w32', 32, 28.54),
    ('pose/hrnet_w48_coco.py', 'w48', 48, 63.60),
    ('pose/hrnet_w48_coco_384x288.py', 'w48', 48, 63.60),
])
def test_pose_configs_read_out_v1(name, arch, width, params_m):
    """mmpose's pose HRNets: W32 28.54M, W48 63.60M with the 17-way head."""
    cfg, model = build(name)
    assert cfg.model.backbone.arch == arch
    assert isinstance(model.neck, HRNetV2Neck) and model.neck.mode == 'v1'
    assert model.neck.out_channels == width
    assert round(_params_m(model), 2) == params_m
    for h, w in SIZES:
        with torch.no_grad():
            out = model(torch.randn(1, 3, h, w), None, mode='tensor')
        assert tuple(out.shape) == (1, 17, *_quarter(h, w))


def test_pose_384x288_uses_its_codec():
    cfg, _ = build('pose/hrnet_w48_coco_384x288.py')
    assert cfg.model.head.decoder.input_size == (288, 384)
    assert cfg.model.head.decoder.sigma == 3


def test_wflw_config_reads_out_v2_into_98_heatmaps():
    cfg, model = build('pose/hrnetv2_w18_wflw.py')
    assert cfg.train_dataloader.dataset.type == 'WFLWDataset'
    assert cfg.val_evaluator.type == 'NME'
    assert model.neck.mode == 'v2' and model.neck.out_channels == 270
    for h, w in SIZES:
        with torch.no_grad():
            out = model(torch.randn(1, 3, h, w), None, mode='tensor')
        assert tuple(out.shape) == (1, 98, *_quarter(h, w))


@pytest.mark.parametrize('name,num_classes,neck_width', [
    ('seg/hrnetv2_w48_ocr_cityscapes.py', 19, 720),
    ('seg/hrnetv2_w48_ocr_ade20k.py', 150, 720),
    ('seg/hrnetv2_w18_fcn_cityscapes.py', 19, 270),
    ('seg/hrformer_b_v2_fcn_ade20k.py', 150, 1170),
])
def test_seg_configs_feed_the_v2_concatenation_to_the_heads(
        name, num_classes, neck_width):
    cfg, model = build(name)
    assert model.neck.mode == 'v2' and model.neck.out_channels == neck_width
    heads = model.decode_head
    heads = heads if isinstance(heads, torch.nn.ModuleList) else [heads]
    for head in heads:  # the heads no longer concatenate themselves
        assert head.input_transform is None
        assert head.in_channels == neck_width
    for h, w in SIZES:
        with torch.no_grad():
            out = model(torch.randn(1, 3, h, w), mode='tensor')
        assert tuple(out.shape) == (1, num_classes, *_quarter(h, w))


def test_hrnetv2_w48_ocr_matches_mmseg_parameter_count():
    """mmseg's ocrnet_hr48 (HRNetV2-W48 + OCR, 19 classes): 70.37M."""
    _, model = build('seg/hrnetv2_w48_ocr_cityscapes.py')
    assert round(_params_m(model), 2) == 70.37


def test_det_config_builds_faster_rcnn_on_the_v2p_pyramid():
    """The whole detector builds; backbone + V2p neck + RPN run forward and
    backward.  The RoI head needs compiled mmcv ops (RoIAlign, NMS), which
    mmcv-lite does not have, so it is not run here."""
    cfg, model = build('det/hrnetv2p_w32_faster_rcnn_coco.py')
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
    _, model = build(name)
    model.train()
    out = model(torch.randn(2, 3, 72, 44), mode='tensor', **kwargs)
    out.square().mean().backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_landmark_demo_config_is_small_and_reads_out_v2():
    cfg, model = build('pose/hrnetv2_demo_wflw.py')
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
