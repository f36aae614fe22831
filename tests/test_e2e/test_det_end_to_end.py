"""HRNetV2p Faster R-CNN and Mask R-CNN through tools/train.py and
tools/test.py on the built-in COCO-instance data, on the default install
(mmcv-lite: the RoI and NMS ops run on torchvision's kernels).  The configs
are the COCO ones with the widths, image size and budget cut down, so the
RoI heads, losses and mmdet's CocoMetric all run; the AP tools/test.py
reports is pycocotools' on the predictions it dumps for every validation
image."""
import contextlib
import io
import json
import os
import pickle

import numpy as np

import pytest

from hrformer_mm.datasets.synthetic import generate_coco_detection

from e2e_utils import PYTHON, ROOT, run
from train_logs import train_and_read_log

WIDTH = 16
# what each config's RoI heads need cut down besides the widths
_HEADS = {
    'faster': f"""
        bbox_head=dict(in_channels={WIDTH}, fc_out_channels=32,
                       num_classes=3)""",
    'mask': f"""
        bbox_head=dict(in_channels={WIDTH}, fc_out_channels=32,
                       num_classes=3),
        mask_roi_extractor=dict(out_channels={WIDTH}),
        mask_head=dict(num_convs=1, in_channels={WIDTH},
                       conv_out_channels={WIDTH}, num_classes=3)""",
}


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco_det')
    generate_coco_detection(str(root), num_train=4, num_val=2,
                            image_size=(96, 96), seed=1)
    return str(root)


def det_config(tmp_path, base: str, kind: str, data_root: str) -> str:
    """``configs/det/<base>`` on a 4-stream HRNet 8-64 wide, 96x96 images,
    one epoch of two iterations."""
    with_mask = kind == 'mask'
    load = ("dict(type='LoadAnnotations', with_bbox=True, "
            f"with_mask={with_mask})")
    path = os.path.join(str(tmp_path), f'{kind}_micro.py')
    with open(path, 'w') as f:
        f.write(f"""
_base_ = ['{ROOT}/configs/det/{base}']
data_root = '{data_root}/'
metainfo = dict(classes={CLASSES!r})
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, channels=(8, 16, 32, 64),
                  num_modules=(1, 1, 1), num_blocks=1, stage1_blocks=1,
                  stage1_channels=16),
        norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels={WIDTH}),
    rpn_head=dict(in_channels={WIDTH}, feat_channels={WIDTH}),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels={WIDTH}),{_HEADS[kind]}),
    train_cfg=dict(rpn_proposal=dict(nms_pre=200, max_per_img=50),
                   rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=100, max_per_img=50),
                  rcnn=dict(max_per_img=20)))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=[
        dict(type='LoadImageFromFile'), {load},
        dict(type='Resize', scale=(96, 96), keep_ratio=True),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackDetInputs')]))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(96, 96), keep_ratio=True), {load},
        dict(type='PackDetInputs', meta_keys=(
            'img_id', 'img_path', 'ori_shape', 'img_shape',
            'scale_factor'))]))
test_dataloader = val_dataloader
val_evaluator = dict(
    ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = [dict(type='ConstantLR', factor=1.0)]
default_hooks = dict(logger=dict(interval=1))
randomness = dict(seed=0)
""")
    return path


CLASSES = ('person', 'car', 'sports ball')


def coco_ap(ann_file, preds, iou_type):
    """pycocotools' AP of dumped predictions (what mmdet's CocoMetric
    reports as ``coco/<iou_type>_mAP``, to 3 decimals)."""
    from pycocotools import mask as mask_util
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(ann_file)
        cat_ids = {c['name']: c['id'] for c in gt.dataset['categories']}
        dets = []
        for p in preds:
            inst = p['pred_instances']
            scores = inst.get('mask_scores', inst['scores']) \
                if iou_type == 'segm' else inst['scores']
            for k, label in enumerate(inst['labels'].tolist()):
                det = dict(image_id=p['img_id'], score=float(scores[k]),
                           category_id=cat_ids[CLASSES[label]])
                if iou_type == 'bbox':
                    x1, y1, x2, y2 = inst['bboxes'][k].tolist()
                    det['bbox'] = [x1, y1, x2 - x1, y2 - y1]
                else:
                    rle = mask_util.encode(np.asfortranarray(
                        np.asarray(inst['masks'][k], dtype=np.uint8)))
                    rle['counts'] = rle['counts'].decode()
                    det['segmentation'] = rle
                dets.append(det)
        assert dets, 'no detections to score'
        ev = COCOeval(gt, gt.loadRes(dets), iou_type)
        ev.params.maxDets = [100, 300, 1000]  # CocoMetric's proposal_nums
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats[0]


CASES = [('hrnetv2p_w32_faster_rcnn_coco.py', 'faster', ['bbox']),
         ('hrnetv2p_w18_mask_rcnn_coco.py', 'mask', ['bbox', 'segm'])]


@pytest.mark.parametrize('base,kind,metrics', CASES,
                         ids=[c[1] for c in CASES])
def test_detector_trains_and_tools_test_reports_coco_ap(
        tmp_path, det_root, base, kind, metrics):
    cfg = det_config(tmp_path, base, kind, det_root)
    work = tmp_path / 'train'
    records = train_and_read_log(cfg, work)
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()
    # every loss of the RoI heads was computed (RoIAlign ran) and finite
    losses = ['loss_rpn_cls', 'loss_cls', 'loss_bbox'] + (
        ['loss_mask'] if kind == 'mask' else [])
    train = [r for r in records if 'loss' in r]
    assert len(train) == 2  # two iterations, logged every one
    for r in train:
        for name in losses:
            assert 0.0 <= r[name] < 1e3, (name, r[name])
    ann_file = os.path.join(det_root, 'annotations', 'instances_val2017.json')
    with open(ann_file) as f:
        val_images = json.load(f)['images']
    for name, out in (('trained', str(ckpt)), ('untrained', 'none')):
        test_dir = tmp_path / name
        proc = run([PYTHON, 'tools/test.py', cfg, out, '--work-dir',
                    str(test_dir), '--out', str(test_dir / 'preds.pkl')])
        result = json.loads((test_dir / 'metrics.json').read_text())
        with open(test_dir / 'preds.pkl', 'rb') as f:
            preds = pickle.load(f)
        # the AP of every validation image's detections, as reported
        assert sorted(p['img_id'] for p in preds) == sorted(
            i['id'] for i in val_images)
        for m in metrics:
            assert result[f'coco/{m}_mAP'] == pytest.approx(
                coco_ap(ann_file, preds, m), abs=5e-4), (name, m)
        assert f'Evaluate annotation type *{metrics[-1]}*' in proc.stdout


# --- Cascade Mask R-CNN and FCOS (one stage) --------------------------------

def _micro_pipelines(with_mask: bool):
    load = dict(type='LoadAnnotations', with_bbox=True, with_mask=with_mask)
    resize = dict(type='Resize', scale=(96, 96), keep_ratio=True)
    train = [dict(type='LoadImageFromFile'), load, resize,
             dict(type='RandomFlip', prob=0.5), dict(type='PackDetInputs')]
    test = [dict(type='LoadImageFromFile'), resize, load,
            dict(type='PackDetInputs', meta_keys=(
                'img_id', 'img_path', 'ori_shape', 'img_shape',
                'scale_factor'))]
    return train, test


def micro_config(tmp_path, base: str, data_root: str) -> str:
    """``configs/det/<base>`` (Cascade Mask R-CNN or FCOS) with the micro
    run's HRNet, 16-channel pyramid, heads cut down, 96x96 images and one
    epoch of two iterations.  Written as the loaded config changed in place
    (dumped), since the cascade's three box heads and training stages are
    lists, which a config diff would have to repeat whole."""
    from mmengine.config import Config
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'det', base))
    model = cfg.model
    model.backbone.update(
        arch=dict(channels=(8, 16, 32, 64), num_modules=(1, 1, 1),
                  num_blocks=1, stage1_blocks=1, stage1_channels=16),
        norm_eval=False, init_cfg=None)
    model.neck.update(in_channels=[8, 16, 32, 64], out_channels=WIDTH)
    with_mask = 'roi_head' in model and 'mask_head' in model.roi_head
    if 'roi_head' in model:
        model.rpn_head.update(in_channels=WIDTH, feat_channels=WIDTH)
        roi = model.roi_head
        roi.bbox_roi_extractor.out_channels = WIDTH
        for head in roi.bbox_head:
            head.update(in_channels=WIDTH, fc_out_channels=32,
                        num_classes=len(CLASSES))
        roi.mask_roi_extractor.out_channels = WIDTH
        roi.mask_head.update(num_convs=1, in_channels=WIDTH,
                             conv_out_channels=WIDTH,
                             num_classes=len(CLASSES))
        model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=50)
        for stage in model.train_cfg.rcnn:
            stage.sampler.num = 32
        model.test_cfg.rpn.update(nms_pre=100, max_per_img=50)
        model.test_cfg.rcnn.max_per_img = 20
    else:
        # GroupNorm of 32 groups needs 32 channels in the head's towers;
        # every point kept at test time (the classifier's prior is 0.01,
        # below the 0.05 threshold after two iterations)
        model.bbox_head.update(in_channels=WIDTH, feat_channels=32,
                               stacked_convs=1, num_classes=len(CLASSES))
        model.test_cfg.update(nms_pre=100, score_thr=0.0, max_per_img=20)
    train, test = _micro_pipelines(with_mask)
    meta = dict(classes=CLASSES)
    for key, pipeline in (('train_dataloader', train),
                          ('val_dataloader', test)):
        cfg[key].update(batch_size=2, num_workers=0,
                        persistent_workers=False)
        cfg[key].dataset.update(data_root=data_root + '/', metainfo=meta,
                                pipeline=pipeline)
    cfg.test_dataloader = cfg.val_dataloader
    ann_file = os.path.join(data_root, 'annotations',
                            'instances_val2017.json')
    cfg.val_evaluator.ann_file = ann_file
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.default_hooks.logger.interval = 1
    cfg.randomness = dict(seed=0)
    path = os.path.join(str(tmp_path), base)
    cfg.dump(path)
    return path


MICRO_CASES = [
    # base, losses logged (the cascade's per stage), metrics
    ('hrnetv2p_w18_cascade_mask_rcnn_coco.py',
     ['loss_rpn_cls'] + [f's{i}.{k}' for i in range(3)
                         for k in ('loss_cls', 'loss_bbox', 'loss_mask')],
     ['bbox', 'segm']),
    ('hrnetv2p_w18_fcos_coco.py', ['loss_cls', 'loss_bbox', 'loss_centerness'],
     ['bbox']),
]


@pytest.mark.parametrize('base,losses,metrics', MICRO_CASES,
                         ids=['cascade_mask_rcnn', 'fcos'])
def test_cascade_and_one_stage_detectors_train_and_report_coco_ap(
        tmp_path, det_root, base, losses, metrics):
    """The zoo config itself (mmdet's recipe on our HRNetV2p) at micro size:
    two training iterations through every head (the three cascade stages'
    box and mask losses; FCOS's focal, IoU and centerness losses), then
    tools/test.py reports mmdet's COCO AP of the dumped predictions."""
    cfg = micro_config(tmp_path, base, det_root)
    work = tmp_path / 'train'
    records = train_and_read_log(cfg, work)
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()
    train = [r for r in records if 'loss' in r]
    assert len(train) == 2
    for r in train:
        for name in losses:
            assert 0.0 <= r[name] < 1e3, (name, r[name])
    test_dir = tmp_path / 'test'
    run([PYTHON, 'tools/test.py', cfg, str(ckpt), '--work-dir',
         str(test_dir), '--out', str(test_dir / 'preds.pkl')])
    result = json.loads((test_dir / 'metrics.json').read_text())
    with open(test_dir / 'preds.pkl', 'rb') as f:
        preds = pickle.load(f)
    ann_file = os.path.join(det_root, 'annotations', 'instances_val2017.json')
    for m in metrics:
        for key in ('mAP', 'mAP_50', 'mAP_75'):
            assert f'coco/{m}_{key}' in result, (m, key, sorted(result))
        assert result[f'coco/{m}_mAP'] == pytest.approx(
            coco_ap(ann_file, preds, m), abs=5e-4), m
