"""mmcv's compiled ops that mmdet's Faster / Mask R-CNN call (nms, RoIAlign),
served on mmcv-lite by torchvision through hrformer_mm.ops_fallback: the same
answers as torchvision's kernels (and compiled mmcv's, where it is built),
through mmcv's own wrappers, and a clear error for the options torchvision
lacks."""
import sys

import pytest
import torch
import torchvision
from mmcv.ops import RoIAlign, batched_nms, nms, roi_align, soft_nms

from hrformer_mm import ops_fallback
from hrformer_mm.compat import (MissingCompiledOpError,
                                UnsupportedOpOptionError)

EXT = sys.modules['mmcv._ext']
ON_PLACEHOLDER = getattr(EXT, 'is_placeholder', False)
needs_placeholder = pytest.mark.skipif(
    not ON_PLACEHOLDER, reason='compiled mmcv is installed: mmcv.ops run '
    'its own kernels, not the torchvision fallback')
needs_compiled_mmcv = pytest.mark.skipif(
    ON_PLACEHOLDER, reason='mmcv-lite: no compiled mmcv ops to compare with '
    '(HRFORMER_FULL_MMCV=1 bash tools/setup_env.sh builds them)')

DEVICES = [
    'cpu',
    pytest.param('cuda', marks=pytest.mark.skipif(
        not torch.cuda.is_available(), reason='no CUDA device')),
]
TOL = dict(atol=1e-5, rtol=1e-5)


def random_boxes(n, size=64.0, seed=0, device='cpu'):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * size
    wh = torch.rand(n, 2, generator=g) * size / 2 + 0.5
    scores = torch.rand(n, generator=g)
    return torch.cat([xy, xy + wh], 1).to(device), scores.to(device)


def reference_nms(boxes, scores, iou_threshold):
    """Greedy NMS written out (ties cannot occur with random scores)."""
    order = scores.argsort(descending=True)
    iou = torchvision.ops.box_iou(boxes, boxes)
    keep, suppressed = [], torch.zeros(len(boxes), dtype=torch.bool)
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i].cpu() > iou_threshold
    return torch.tensor(keep, dtype=torch.long)


# --------------------------------------------------------------------- nms
@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('n', [0, 1, 7, 300])
@pytest.mark.parametrize('iou_threshold', [0.3, 0.7])
def test_nms_equals_torchvision(device, n, iou_threshold):
    boxes, scores = random_boxes(n, seed=n, device=device)
    dets, inds = nms(boxes, scores, iou_threshold)
    expected = torchvision.ops.nms(boxes, scores, iou_threshold)
    assert inds.dtype == torch.long and inds.device == boxes.device
    assert torch.equal(inds, expected)
    assert torch.equal(inds.cpu(), reference_nms(boxes.cpu(), scores.cpu(),
                                                 iou_threshold))
    assert dets.shape == (len(expected), 5)
    torch.testing.assert_close(dets[:, :4], boxes[expected], **TOL)
    torch.testing.assert_close(dets[:, 4], scores[expected], **TOL)


def test_nms_score_threshold_max_num_and_numpy():
    boxes, scores = random_boxes(200, seed=3)
    _, inds = nms(boxes, scores, 0.5, score_threshold=0.4, max_num=5)
    valid = (scores > 0.4).nonzero().squeeze(1)
    expected = valid[torchvision.ops.nms(boxes[valid], scores[valid], 0.5)]
    assert torch.equal(inds, expected[:5])
    dets_np, inds_np = nms(boxes.numpy(), scores.numpy(), 0.5)
    assert torch.equal(torch.from_numpy(inds_np),
                       torchvision.ops.nms(boxes, scores, 0.5))


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('class_agnostic', [False, True])
def test_batched_nms_split_and_unsplit_paths(device, class_agnostic):
    """mmdet calls batched_nms with thousands of boxes; past ``split_thr``
    mmcv loops over the classes instead of offsetting the boxes."""
    boxes, scores = random_boxes(600, seed=1, device=device)
    idxs = torch.randint(0, 5, (600, ),
                         generator=torch.Generator().manual_seed(2)).to(device)
    results = []
    for split_thr in (10000, 10):
        cfg = dict(type='nms', iou_threshold=0.5, split_thr=split_thr,
                   class_agnostic=class_agnostic)
        dets, keep = batched_nms(boxes, scores, idxs, cfg)
        results.append((dets, keep))
    per_class = torchvision.ops.batched_nms(boxes, scores, idxs, 0.5)
    if class_agnostic:
        expected = torchvision.ops.nms(boxes, scores, 0.5)
        # mmcv 2.1.0's split path loops over idxs whatever class_agnostic
        # says: only the unsplit path is class-agnostic
        expected_split = per_class
        assert len(expected) < len(per_class)
    else:
        expected = expected_split = per_class
    for (dets, keep), want in zip(results, (expected, expected_split)):
        assert torch.equal(keep, want)
        torch.testing.assert_close(dets[:, :4], boxes[want], **TOL)
        torch.testing.assert_close(dets[:, 4], scores[want], **TOL)
    assert len(expected) > 20


def test_nms_offset_1_is_refused_by_name():
    boxes, scores = random_boxes(5)
    with pytest.raises(UnsupportedOpOptionError,
                       match=r'"nms" with offset=1'):
        nms(boxes, scores, 0.5, offset=1)


# ---------------------------------------------------------------- RoIAlign
def random_rois(n, batch, size, seed, device):
    g = torch.Generator().manual_seed(seed)
    boxes, _ = random_boxes(n, size=size, seed=seed)
    # a few degenerate and out-of-image rois, as the RPN produces early on
    if n >= 4:
        boxes[0, 2:] = boxes[0, :2]
        boxes[1] = torch.tensor([-5.0, -3.0, size + 4, size + 6])
    idx = torch.randint(0, batch, (n, 1), generator=g).float()
    return torch.cat([idx, boxes], 1).to(device)


ROI_CASES = [
    # (aligned, sampling_ratio, spatial_scale, output_size)
    (True, 0, 1.0, 7),
    (False, 0, 1.0, 7),
    (True, 2, 0.25, (7, 5)),
    (False, 2, 0.25, 14),
    (True, 0, 0.125, 7),
    (False, 2, 1 / 16, 7),
    (True, 2, 0.5, 28),
]


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('aligned,ratio,scale,out', ROI_CASES)
@pytest.mark.parametrize('n', [0, 12])
def test_roi_align_forward_backward_equal_torchvision(device, aligned, ratio,
                                                      scale, out, n):
    g = torch.Generator().manual_seed(n)
    x = torch.randn(2, 3, 20, 24, generator=g).to(device)
    rois = random_rois(n, 2, 24 / scale, seed=n + 1, device=device)
    grad = torch.randn(n, 3, *torch.nn.modules.utils._pair(out),
                       generator=g).to(device)

    x_mm = x.clone().requires_grad_()
    y_mm = RoIAlign(out, scale, ratio, aligned=aligned)(x_mm, rois)
    y_mm.backward(grad)
    x_tv = x.clone().requires_grad_()
    y_tv = torchvision.ops.roi_align(x_tv, rois, out, scale, ratio, aligned)
    y_tv.backward(grad)
    torch.testing.assert_close(y_mm, y_tv, **TOL)
    torch.testing.assert_close(x_mm.grad, x_tv.grad, **TOL)

    if n:
        assert y_mm.abs().sum() > 0 and x_mm.grad.abs().sum() > 0


@pytest.mark.parametrize('aligned,ratio,scale,out', ROI_CASES)
def test_roi_align_equals_pure_pytorch_reference(aligned, ratio, scale, out):
    """Against torchvision's pure-PyTorch transcription of the kernel, with
    autograd's gradient: catches a mis-mapped argument that the compiled
    pair would share.  Rois inside the image only: outside it the
    transcription does not zero the samples as the kernels (torchvision's
    and mmcv's) do."""
    ref = sys.modules['torchvision.ops.roi_align']._roi_align.__wrapped__
    g = torch.Generator().manual_seed(7)
    x = torch.randn(2, 3, 20, 24, generator=g, dtype=torch.float64)
    boxes, _ = random_boxes(12, size=16 / scale, seed=8)
    rois = torch.cat([torch.randint(0, 2, (12, 1), generator=g), boxes],
                     1).double()
    oh, ow = torch.nn.modules.utils._pair(out)
    grad = torch.randn(12, 3, oh, ow, generator=g, dtype=torch.float64)
    x_mm = x.clone().requires_grad_()
    y_mm = RoIAlign(out, scale, ratio, aligned=aligned)(x_mm, rois)
    y_mm.backward(grad)
    x_ref = x.clone().requires_grad_()
    y_ref = ref(x_ref, rois, scale, oh, ow, ratio, aligned)
    y_ref.backward(grad)
    torch.testing.assert_close(y_mm, y_ref, **TOL)
    torch.testing.assert_close(x_mm.grad, x_ref.grad, **TOL)


def test_roi_align_aligned_flag_changes_the_result():
    x = torch.randn(1, 2, 16, 16)
    rois = torch.tensor([[0, 2.3, 3.1, 9.7, 12.2]])
    a = roi_align(x, rois, 5, 1.0, 2, 'avg', True)
    b = roi_align(x, rois, 5, 1.0, 2, 'avg', False)
    assert (a - b).abs().max() > 1e-3


def test_roi_align_max_pool_is_refused_by_name():
    x = torch.randn(1, 2, 8, 8)
    rois = torch.tensor([[0, 1.0, 1, 6, 6]])
    with pytest.raises(UnsupportedOpOptionError,
                       match=r'"roi_align_forward" with pool_mode=.max.'):
        RoIAlign(3, 1.0, 0, pool_mode='max')(x, rois)


@pytest.mark.parametrize('device', DEVICES)
def test_mask_target_crop_and_resize(device):
    """Mask R-CNN's mask_target: BitmapMasks.crop_and_resize -> RoIAlign."""
    from mmdet.structures.mask import BitmapMasks
    g = torch.Generator().manual_seed(0)
    masks = (torch.rand(3, 40, 50, generator=g) > 0.5).numpy().astype('uint8')
    boxes, _ = random_boxes(4, size=40, seed=5)
    inds = torch.tensor([0, 2, 1, 2])
    out = BitmapMasks(masks, 40, 50).crop_and_resize(
        boxes.numpy(), (14, 14), inds.numpy(), device=device, binarize=False)
    rois = torch.cat([torch.arange(4.)[:, None], boxes], 1)
    expected = torchvision.ops.roi_align(
        torch.from_numpy(masks).float()[inds][:, None], rois, 14, 1.0, 0,
        True)[:, 0]
    torch.testing.assert_close(torch.from_numpy(out.masks).float(),
                               expected, **TOL)


# ---------------------------------------------------- the placeholder itself
@needs_placeholder
def test_other_ops_still_raise_naming_the_op():
    boxes, scores = random_boxes(4)
    with pytest.raises(MissingCompiledOpError, match='"softnms"'):
        soft_nms(boxes, scores)


@needs_placeholder
def test_mmcv_ops_run_the_torchvision_table():
    for name, impl in ops_fallback.TORCHVISION_OPS.items():
        assert getattr(EXT, name) is impl
    assert EXT.__spec__.origin == ops_fallback.ORIGIN


# ------------------------------------------- against compiled mmcv, if built
@needs_compiled_mmcv
@pytest.mark.parametrize('device', DEVICES)
def test_fallback_nms_equals_compiled_mmcv(device):
    for n in (0, 5, 400):
        boxes, scores = random_boxes(n, seed=n, device=device)
        for thr in (0.3, 0.6):
            assert torch.equal(
                ops_fallback.nms(boxes, scores, iou_threshold=thr, offset=0),
                EXT.nms(boxes, scores, iou_threshold=thr, offset=0))


@needs_compiled_mmcv
@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('aligned,ratio,scale,out', ROI_CASES)
def test_fallback_roi_align_equals_compiled_mmcv(device, aligned, ratio,
                                                 scale, out):
    oh, ow = torch.nn.modules.utils._pair(out)
    x = torch.randn(2, 3, 20, 24).to(device)
    rois = random_rois(12, 2, 24 / scale, seed=4, device=device)
    grad = torch.randn(12, 3, oh, ow).to(device)
    empty = x.new_zeros(0)
    outputs, grads = [], []
    for impl in (ops_fallback, EXT):
        y = x.new_zeros(12, 3, oh, ow)
        impl.roi_align_forward(x, rois, y, empty, empty, aligned_height=oh,
                               aligned_width=ow, spatial_scale=scale,
                               sampling_ratio=ratio, pool_mode=1,
                               aligned=aligned)
        gx = torch.zeros_like(x)
        impl.roi_align_backward(grad, rois, empty, empty, gx,
                                aligned_height=oh, aligned_width=ow,
                                spatial_scale=scale, sampling_ratio=ratio,
                                pool_mode=1, aligned=aligned)
        outputs.append(y)
        grads.append(gx)
    torch.testing.assert_close(outputs[0], outputs[1], **TOL)
    torch.testing.assert_close(grads[0], grads[1], **TOL)


# ------------------------------------------------------- mmdet end to end
def test_mask_rcnn_trains_a_step_and_predicts(tmp_path):
    """mmdet's own Mask R-CNN (ResNet-18 for speed): RPN nms, RoIAlign
    forward and backward, mask_target and multiclass_nms all run."""
    import numpy as np
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.structures import InstanceData
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks

    path = tmp_path / 'mask_rcnn.py'
    path.write_text("_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'"
                    "\nmodel = dict(backbone=dict(depth=18, init_cfg=None),"
                    " neck=dict(in_channels=[64, 128, 256, 512]),"
                    " roi_head=dict(bbox_head=dict(num_classes=3),"
                    " mask_head=dict(num_classes=3)))\n")
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(path)).model)
    size = 128
    sample = DetDataSample(metainfo=dict(
        img_shape=(size, size), ori_shape=(size, size),
        pad_shape=(size, size), scale_factor=(1.0, 1.0),
        batch_input_shape=(size, size)))
    gt = InstanceData()
    gt.bboxes = torch.tensor([[10.0, 12, 60, 70], [50, 40, 120, 110]])
    gt.labels = torch.tensor([0, 2])
    masks = np.zeros((2, size, size), np.uint8)
    masks[0, 12:70, 10:60] = 1
    masks[1, 40:110, 50:120] = 1
    gt.masks = BitmapMasks(masks, size, size)
    sample.gt_instances = gt
    x = torch.randn(1, 3, size, size)

    losses = model.loss(x, [sample])
    loss = sum(sum(v) if isinstance(v, list) else v
               for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(loss) and losses['loss_mask'] > 0
    loss.backward()
    grad = model.roi_head.bbox_head.shared_fcs[0].weight.grad
    assert grad is not None and grad.abs().sum() > 0

    model.eval()
    with torch.no_grad():
        pred = model.predict(x, [sample])[0].pred_instances
    assert pred.masks.shape[1:] == (size, size)
    assert len(pred.bboxes) == len(pred.scores) == len(pred.masks)
