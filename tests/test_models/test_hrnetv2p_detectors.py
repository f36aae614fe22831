"""The HRNetV2p detector configs of mmdet's hrnet/ folder beyond Faster /
Mask R-CNN W18 / W32: Faster R-CNN W40, Cascade R-CNN, Cascade Mask R-CNN,
HTC and FCOS.  Each is mmdet's config with the backbone and neck swapped for
ours: outside them the model is mmdet's; mmdet's whole-detector weights load
strictly and give mmdet's features; on the default install (mmcv-lite) a
training step and a prediction reach only the compiled ops that
hrformer_mm.ops_fallback serves (the ops themselves:
test_mmcv_ops.py)."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from hrformer_mm import ops_fallback
from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.models.backbones import HRNet
from hrformer_mm.models.necks import HRNetV2Neck
from test_mmcv_ops import EXT, REACHED_OPS, _det_sample, _fewer_boxes

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FAMILIES = ('cascade_rcnn', 'cascade_mask_rcnn', 'htc', 'fcos', 'fcos_ms_2x')
DET = osp.join(ROOT, 'configs', 'det')
CONFIGS = sorted(
    [p for f in FAMILIES
     for p in glob.glob(osp.join(DET, f'hrnetv2p_w*_{f}_coco.py'))]
    + [osp.join(DET, 'hrnetv2p_w40_faster_rcnn_coco.py')])
HOST_RECIPE = re.compile(r'^# mmdet::(\S+\.py)$', re.M)


def _host_config(path):
    """The mmdet config a zoo config names as its recipe."""
    import mmdet
    rel = HOST_RECIPE.search(open(path).read()).group(1)
    return osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', rel)


def test_every_width_mmdet_ships_has_a_config():
    names = {osp.basename(p) for p in CONFIGS}
    expected = {f'hrnetv2p_{w}_{f}_coco.py' for w in ('w18', 'w32', 'w40')
                for f in ('cascade_rcnn', 'cascade_mask_rcnn', 'htc',
                          'fcos_ms_2x')}
    expected |= {'hrnetv2p_w18_fcos_coco.py', 'hrnetv2p_w32_fcos_coco.py',
                 'hrnetv2p_w40_faster_rcnn_coco.py'}
    assert names == expected


def _without(model, *keys):
    """The model dict without ``keys`` and mmengine's ``_scope_`` marker
    (it names the host a config was read through)."""
    d = model.to_dict()
    for k in keys + ('_scope_', ):
        d.pop(k, None)
    return d


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.basename(p) for p in CONFIGS])
@pytest.mark.slow
def test_config_is_mmdets_model_but_backbone_and_neck(path):
    ours = Config.fromfile(path).model
    theirs = Config.fromfile(_host_config(path)).model
    assert _without(ours, 'backbone', 'neck') == \
        _without(theirs, 'backbone', 'neck')
    arch = ours.backbone.arch
    assert ours.backbone.type == 'hrformer_mm.HRNet'
    assert ours.backbone.init_cfg == theirs.backbone.init_cfg
    assert list(HRNet.arch_zoo[arch]['channels']) == \
        theirs.neck.in_channels == ours.neck.in_channels
    assert ours.neck.type == 'hrformer_mm.HRNetV2Neck'
    assert ours.neck.mode == 'v2p'
    # the defaults (HRFPN's and ours agree) where a config does not set them
    for key, default in (('out_channels', None), ('num_outs', 5),
                         ('stride', 1), ('pooling_type', 'AVG')):
        assert ours.neck.get(key, default) == theirs.neck.get(key, default), \
            key
    assert ours.neck.norm_cfg is None and ours.neck.act_cfg is None


# one config per detector kind, and the one W40 detector of the
# Faster / Mask R-CNN pair
WEIGHT_CASES = ['hrnetv2p_w18_cascade_rcnn_coco.py',
                'hrnetv2p_w18_cascade_mask_rcnn_coco.py',
                'hrnetv2p_w18_htc_coco.py', 'hrnetv2p_w18_fcos_coco.py',
                'hrnetv2p_w40_faster_rcnn_coco.py']


@pytest.mark.parametrize('name', WEIGHT_CASES)
@pytest.mark.slow
def test_mmdet_weights_load_and_give_mmdets_features(name):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    cfg = Config.fromfile(_host_config(osp.join(DET, name)))
    cfg.model.backbone.pop('init_cfg')
    torch.manual_seed(0)
    theirs = MODELS.build(cfg.model).eval()
    _, ours = build_model_from_config(osp.join(DET, name), pretrained=False)
    ours.eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert isinstance(ours.neck, HRNetV2Neck)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        expected, got = theirs.extract_feat(x), ours.extract_feat(x)
    # stream 0 (16 x 24) pooled by 2**k; FCOS's stride-2 convs halve each
    # level again (rounding up), so its levels start at stride 8
    sizes = [(16 >> k, 24 >> k) for k in range(5)]
    if 'fcos' in name:
        sizes = [((h + 1) // 2, (w + 1) // 2) for h, w in sizes]
    assert [tuple(f.shape) for f in got] == [(1, 256, *s) for s in sizes]
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5)


KINDS = {'cascade-rcnn': 'hrnetv2p_w18_cascade_rcnn_coco.py',
         'cascade-mask-rcnn': 'hrnetv2p_w18_cascade_mask_rcnn_coco.py',
         'htc': 'hrnetv2p_w18_htc_coco.py',
         'fcos': 'hrnetv2p_w18_fcos_coco.py'}


def _record_served_ops(monkeypatch) -> set:
    """The names of the served ops called from now on (the set fills as
    the placeholder module's functions run)."""
    called = set()

    def recorder(name, impl):
        return lambda *args, **kwargs: called.add(name) or impl(*args,
                                                                **kwargs)

    for name, impl in ops_fallback.SERVED_OPS.items():
        monkeypatch.setattr(EXT, name, recorder(name, impl))
    return called


@pytest.mark.parametrize('kind', sorted(KINDS))
@pytest.mark.slow
def test_training_step_and_prediction_reach_only_served_ops(
        kind, monkeypatch):
    """Our configs' detectors (HTC with its semantic branch and mask
    information flow, the cascades' three box heads) call only served ops
    (any other raises, naming it).  FCOS's focal loss takes mmcv's op only
    for CUDA tensors: here its CPU branch is routed through the op, as on
    a GPU."""
    from mmdet.models.losses import focal_loss
    called = _record_served_ops(monkeypatch)

    def through_the_compiled_op(pred, target, weight=None, gamma=2.0,
                                alpha=0.25, reduction='mean',
                                avg_factor=None):
        labels = torch.where(target.any(1), target.argmax(1), target.size(1))
        return focal_loss.sigmoid_focal_loss(pred, labels, weight, gamma,
                                             alpha, reduction, avg_factor)

    monkeypatch.setattr(focal_loss, 'py_sigmoid_focal_loss',
                        through_the_compiled_op)
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(DET, KINDS[kind]))
    _fewer_boxes(cfg.model)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    size = 128
    sample = _det_sample(size, with_semantic=kind == 'htc')
    x = torch.randn(1, 3, size, size)
    losses = model.loss(x, [sample])
    loss = sum(sum(v) if isinstance(v, list) else v
               for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    if kind == 'htc':
        assert losses['loss_semantic_seg'] > 0
    model.eval()
    with torch.no_grad():
        pred = model.predict(x, [sample])[0].pred_instances
    assert len(pred.bboxes) == len(pred.scores) > 0
    assert called == REACHED_OPS[kind]
