"""mmcv's compiled ops that mmdet's detectors with HRNetV2p call (Faster /
Mask / Cascade (Mask) R-CNN and HTC: nms, RoIAlign; FCOS on a GPU: the
sigmoid focal loss), served on mmcv-lite through hrformer_mm.ops_fallback:
the same answers as torchvision's kernels or mmcv's kernel formulas (and
compiled mmcv's, where it is built), through mmcv's own wrappers, and a
clear error for the options torchvision lacks."""
import sys

import pytest
import torch
import torch.nn.functional as F
import torchvision
from mmcv.ops import (RoIAlign, batched_nms, nms, roi_align,
                      sigmoid_focal_loss, soft_nms, softmax_focal_loss)

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


# ------------------------------------------------------ sigmoid focal loss
def reference_sigmoid_focal_loss(x, target, gamma, alpha, weight=None):
    """mmcv's sigmoid focal loss, elementwise (N, C), as its kernel's
    comments state it: with p = sigmoid(x[n, c]) and t = target[n],
    -alpha (1 - p)^gamma log(p) where t == c, -(1 - alpha) p^gamma
    log(1 - p) elsewhere (t == C, the background, is negative for every
    class), times weight[t] where a class weight is given.  Written out
    with autograd, in float64."""
    x = x.double()
    p = x.sigmoid()
    positive = F.one_hot(target, x.size(1) + 1)[:, :x.size(1)].double()
    loss = (-alpha * (1 - p)**gamma * torch.log(p) * positive
            - (1 - alpha) * p**gamma * torch.log(1 - p) * (1 - positive))
    if weight is not None:
        loss = loss * weight.double()[target][:, None]
    return loss


def focal_inputs(n=37, num_classes=5, seed=0, device='cpu'):
    """Logits within +-6 (the log's clamp at FLT_MIN never bites) and
    targets over every class and the background (``num_classes``)."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, num_classes, generator=g) * 12 - 6).to(device)
    target = torch.randint(0, num_classes + 1, (n, ), generator=g)
    return x, target.to(device)


FOCAL_CASES = [(2.0, 0.25), (0.0, 0.25), (1.5, 0.6), (2.0, 0.5)]


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('gamma,alpha', FOCAL_CASES)
@pytest.mark.parametrize('reduction', ['none', 'mean', 'sum'])
def test_sigmoid_focal_loss_forward_and_gradient_equal_the_formula(
        device, gamma, alpha, reduction):
    x, target = focal_inputs(seed=int(gamma * 10 + alpha * 100),
                             device=device)
    x_mm = x.clone().requires_grad_()
    loss = sigmoid_focal_loss(x_mm, target, gamma, alpha, None, reduction)
    x_ref = x.double().requires_grad_()
    ref = reference_sigmoid_focal_loss(x_ref, target, gamma, alpha)
    # mmcv's reductions: 'mean' divides the sum by the number of samples
    ref = {'none': ref, 'sum': ref.sum(),
           'mean': ref.sum() / len(x)}[reduction]
    torch.testing.assert_close(loss.double(), ref, rtol=1e-5, atol=1e-6)
    grad = torch.randn(loss.shape, generator=torch.Generator().manual_seed(
        3)).to(device)
    loss.backward(grad)
    ref.backward(grad.double())
    torch.testing.assert_close(x_mm.grad.double(), x_ref.grad, rtol=1e-5,
                               atol=1e-6)
    assert loss.dtype == x.dtype and x_mm.grad.abs().sum() > 0


@pytest.mark.parametrize('device', DEVICES)
def test_sigmoid_focal_loss_class_weight(device):
    x, target = focal_inputs(num_classes=4, seed=5, device=device)
    target = target.clamp(max=3)  # a class weight needs a class per sample
    weight = torch.tensor([0.5, 2.0, 1.0, 3.0], device=device)
    x_mm = x.clone().requires_grad_()
    loss = sigmoid_focal_loss(x_mm, target, 2.0, 0.25, weight, 'none')
    x_ref = x.double().requires_grad_()
    ref = reference_sigmoid_focal_loss(x_ref, target, 2.0, 0.25, weight)
    torch.testing.assert_close(loss.double(), ref, rtol=1e-5, atol=1e-6)
    loss.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(x_mm.grad.double(), x_ref.grad, rtol=1e-5,
                               atol=1e-6)


def test_sigmoid_focal_loss_equals_torchvisions():
    """torchvision's form (one-hot float targets) of the same loss."""
    x, target = focal_inputs(seed=9)
    onehot = F.one_hot(target, 6)[:, :5].float()
    expected = torchvision.ops.sigmoid_focal_loss(x, onehot, alpha=0.25,
                                                  gamma=2.0)
    torch.testing.assert_close(sigmoid_focal_loss(x, target, 2.0, 0.25),
                               expected.sum() / len(x), rtol=1e-5,
                               atol=1e-6)


def test_sigmoid_focal_loss_clamps_the_log_as_mmcvs_kernel():
    """At logits beyond float32's exp range the kernel takes log(FLT_MIN)
    instead of log(0): a finite loss and gradient."""
    x = torch.tensor([[-120.0, 120.0]], requires_grad=True)
    target = torch.tensor([0])  # class 0 positive at p ~ 0, class 1 at p ~ 1
    loss = sigmoid_focal_loss(x, target, 2.0, 0.25, None, 'none')
    log_flt_min = torch.log(torch.tensor(torch.finfo(torch.float32).tiny))
    torch.testing.assert_close(loss, torch.stack([
        -0.25 * log_flt_min, -0.75 * log_flt_min])[None], rtol=1e-6,
        atol=0)
    loss.sum().backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize('device', DEVICES)
def test_mmdet_focal_loss_gpu_branch_equals_its_cpu_branch(device):
    """mmdet's FocalLoss calls mmcv's compiled op for CUDA tensors
    (``sigmoid_focal_loss`` in mmdet/models/losses/focal_loss.py, class
    indices) and its own PyTorch form otherwise (``py_sigmoid_focal_loss``,
    one-hot targets); called here directly on the same inputs, with
    mmdet's per-sample weight and avg_factor as FCOS passes them."""
    from mmdet.models.losses.focal_loss import (py_sigmoid_focal_loss,
                                                sigmoid_focal_loss as gpu)
    x, target = focal_inputs(n=60, num_classes=3, seed=11, device=device)
    weight = torch.rand(60, generator=torch.Generator().manual_seed(1)).to(
        device)
    x_gpu, x_cpu = x.clone().requires_grad_(), x.clone().requires_grad_()
    a = gpu(x_gpu, target, weight, gamma=2.0, alpha=0.25, reduction='mean',
            avg_factor=17.0)
    onehot = F.one_hot(target, 4)[:, :3]
    b = py_sigmoid_focal_loss(x_cpu, onehot, weight, gamma=2.0, alpha=0.25,
                              reduction='mean', avg_factor=17.0)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    a.backward()
    b.backward()
    torch.testing.assert_close(x_gpu.grad, x_cpu.grad, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------- the placeholder itself
@needs_placeholder
def test_other_ops_still_raise_naming_the_op():
    boxes, scores = random_boxes(4)
    with pytest.raises(MissingCompiledOpError, match='"softnms"'):
        soft_nms(boxes, scores)
    # mmcv's softmax focal loss: no mmdet detector of this package uses it
    x, target = focal_inputs()
    with pytest.raises(MissingCompiledOpError,
                       match='"softmax_focal_loss_forward"'):
        softmax_focal_loss(x, target.clamp(max=4), 2.0, 0.25)


@needs_placeholder
def test_mmcv_ops_run_the_served_table():
    assert set(ops_fallback.SERVED_OPS) == {
        'nms', 'roi_align_forward', 'roi_align_backward',
        'sigmoid_focal_loss_forward', 'sigmoid_focal_loss_backward'}
    for name, impl in ops_fallback.SERVED_OPS.items():
        assert getattr(EXT, name) is impl
    assert EXT.__spec__.origin == ops_fallback.ORIGIN


@needs_placeholder
def test_sigmoid_focal_loss_class_weight_on_background_is_refused():
    """mmcv's kernel multiplies by weight[target], past the weight's end
    for a background sample (target == num_classes): no defined value."""
    x, target = focal_inputs(num_classes=3, seed=2)
    assert (target == 3).any()
    with pytest.raises(ValueError, match='class weight'):
        sigmoid_focal_loss(x, target, 2.0, 0.25, torch.ones(3), 'none')


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


@needs_compiled_mmcv
@pytest.mark.parametrize('device', DEVICES)
def test_fallback_sigmoid_focal_loss_equals_compiled_mmcv(device):
    if device == 'cpu':
        pytest.skip('compiled mmcv has no CPU sigmoid focal loss')
    x, target = focal_inputs(n=50, num_classes=7, seed=4, device=device)
    empty = x.new_empty(0)
    outputs, grads = [], []
    for impl in (ops_fallback, EXT):
        y, gx = torch.zeros_like(x), torch.zeros_like(x)
        impl.sigmoid_focal_loss_forward(x, target, empty, y, gamma=2.0,
                                        alpha=0.25)
        impl.sigmoid_focal_loss_backward(x, target, empty, gx, gamma=2.0,
                                         alpha=0.25)
        outputs.append(y)
        grads.append(gx)
    torch.testing.assert_close(outputs[0], outputs[1], **TOL)
    torch.testing.assert_close(grads[0], grads[1], **TOL)


# ------------------------------------------------------- mmdet end to end
@pytest.mark.slow
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


# mmdet's own HRNetV2p detectors (W18): which compiled ops a training step
# and a prediction reach, through mmcv's wrappers
HRNETV2P_DETECTORS = {
    'fcos': 'hrnet/fcos_hrnetv2p-w18-gn-head_4xb4-1x_coco.py',
    'cascade-rcnn': 'hrnet/cascade-rcnn_hrnetv2p-w18-20e_coco.py',
    'cascade-mask-rcnn': 'hrnet/cascade-mask-rcnn_hrnetv2p-w18_20e_coco.py',
    'htc': 'hrnet/htc_hrnetv2p-w18_20e_coco.py',
}
ROI_OPS = {'nms', 'roi_align_forward', 'roi_align_backward'}
REACHED_OPS = {
    # on CUDA tensors: the focal loss through mmcv's op (emulated below)
    'fcos': {'nms', 'sigmoid_focal_loss_forward',
             'sigmoid_focal_loss_backward'},
    'cascade-rcnn': ROI_OPS,
    'cascade-mask-rcnn': ROI_OPS,
    'htc': ROI_OPS,
}


def _det_sample(size, with_semantic):
    import numpy as np
    from mmengine.structures import InstanceData, PixelData
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
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
    if with_semantic:
        sem = torch.zeros(1, size, size, dtype=torch.long)
        sem[0, 12:70, 10:60], sem[0, 40:110, 50:120] = 1, 3
        sample.gt_sem_seg = PixelData(sem_seg=sem)
    return sample


def _fewer_boxes(model):
    """Fewer proposals and sampled RoIs (speed), and every box kept at
    test time (random weights score below the configs' thresholds)."""
    train, test = model.get('train_cfg') or {}, model.test_cfg
    if 'rpn_proposal' in train:
        train.rpn_proposal.update(nms_pre=200, max_per_img=100)
        stages = train.rcnn if isinstance(train.rcnn, list) else [train.rcnn]
        for stage in stages:
            stage.sampler.num = 32
        test.rpn.update(nms_pre=200, max_per_img=50)
        test.rcnn.update(score_thr=0.0, max_per_img=10)
    else:
        test.update(score_thr=0.0, max_per_img=10)


# the CPU run is slow (seconds per detector): left to CI; the CUDA run
# stays in the quick loop that the GPU check runs
@pytest.mark.parametrize('device', [
    pytest.param('cpu', marks=pytest.mark.slow), DEVICES[1]])
@pytest.mark.parametrize('name', sorted(HRNETV2P_DETECTORS))
def test_hrnetv2p_detectors_reach_only_served_ops(name, device, monkeypatch,
                                                  tmp_path):
    """A training step and a prediction of mmdet's FCOS, Cascade R-CNN,
    Cascade Mask R-CNN and HTC with HRNetV2p-W18 call only served ops
    (any other would raise, naming it).  mmdet's FocalLoss takes mmcv's
    compiled op only for CUDA tensors; on the CPU its PyTorch branch is
    routed through the op (class indices, as the CUDA branch passes them)
    and must give that branch's loss and gradients."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmdet.models.losses import focal_loss
    from mmdet.registry import MODELS

    called = set()
    for op, impl in ops_fallback.SERVED_OPS.items():
        def record(*args, _op=op, _impl=impl, **kwargs):
            called.add(_op)
            return _impl(*args, **kwargs)
        monkeypatch.setattr(EXT, op, record)

    init_default_scope('mmdet')
    path = tmp_path / 'detector.py'
    path.write_text(f"_base_ = 'mmdet::{HRNETV2P_DETECTORS[name]}'\n"
                    "model = dict(backbone=dict(init_cfg=None))\n")
    cfg = Config.fromfile(str(path))
    _fewer_boxes(cfg.model)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(device)
    size = 128
    sample = _det_sample(size, with_semantic=name == 'htc').to(device)
    x = torch.randn(1, 3, size, size).to(device)

    def step():
        model.zero_grad()
        losses = model.loss(x, [sample])
        loss = sum(sum(v) if isinstance(v, list) else v
                   for k, v in losses.items() if 'loss' in k)
        loss.backward()
        return losses, {k: p.grad.clone()
                        for k, p in model.named_parameters()
                        if p.grad is not None}

    losses, grads = step()
    assert all(torch.isfinite(sum(v) if isinstance(v, list) else v)
               for k, v in losses.items() if 'loss' in k)
    if name == 'fcos' and device == 'cpu':
        assert not called & {'sigmoid_focal_loss_forward'}

        def through_the_compiled_op(pred, target, weight=None, gamma=2.0,
                                    alpha=0.25, reduction='mean',
                                    avg_factor=None):
            labels = torch.where(target.any(1), target.argmax(1),
                                 target.size(1))
            return focal_loss.sigmoid_focal_loss(
                pred, labels, weight, gamma, alpha, reduction, avg_factor)

        monkeypatch.setattr(focal_loss, 'py_sigmoid_focal_loss',
                            through_the_compiled_op)
        losses_op, grads_op = step()
        torch.testing.assert_close(losses_op['loss_cls'], losses['loss_cls'],
                                   rtol=1e-5, atol=1e-6)
        assert losses['loss_cls'] > 0
        worst = max((grads_op[k] - g).abs().max() / g.abs().max().clamp(
            min=1e-12) for k, g in grads.items())
        assert worst < 1e-4

    model.eval()
    with torch.no_grad():
        pred = model.predict(x, [sample])[0].pred_instances
    assert len(pred.bboxes) == len(pred.scores) > 0
    assert called == REACHED_OPS[name]
