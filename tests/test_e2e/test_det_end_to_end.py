"""HRNetV2p Faster R-CNN and Mask R-CNN through tools/train.py and
tools/test.py on the built-in COCO-instance data, on the default install
(mmcv-lite: the RoI and NMS ops run on torchvision's kernels).  The configs
are the COCO ones with the widths, image size and budget cut down, so the
RoI heads, losses and mmdet's CocoMetric all run."""
import json
import os

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
metainfo = dict(classes=('person', 'car', 'sports ball'))
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
    for name, out in (('trained', str(ckpt)), ('untrained', 'none')):
        test_dir = tmp_path / name
        proc = run([PYTHON, 'tools/test.py', cfg, out, '--work-dir',
                    str(test_dir)])
        result = json.loads((test_dir / 'metrics.json').read_text())
        for m in metrics:
            assert 0.0 <= result[f'coco/{m}_mAP'] <= 1.0, (name, m)
        assert f'Evaluate annotation type *{metrics[-1]}*' in proc.stdout
