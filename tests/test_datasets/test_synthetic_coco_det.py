"""The built-in COCO-instance data (hrformer_mm/datasets/synthetic/coco_det.py):
annotations that describe the visible pixels exactly, in a format that
mmdet's CocoDataset and pycocotools read unchanged."""
import contextlib
import io
import json
import os.path as osp

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from hrformer_mm.datasets.synthetic import (DET_CLASSES,
                                            generate_coco_detection)

from e2e_utils import load_tool


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco_det')
    summary = generate_coco_detection(str(root), num_train=12, num_val=6,
                                      seed=5)
    return str(root), summary


def _load(root, split='train2017'):
    with open(osp.join(root, 'annotations', f'instances_{split}.json')) as f:
        return json.load(f)


def _masks(ann, h, w):
    m = mask_utils.decode(ann['segmentation']).astype(bool)
    assert m.shape == (h, w)
    return m


def test_layout_and_summary_match_the_files(det_root):
    root, summary = det_root
    for split, n in (('train2017', 12), ('val2017', 6)):
        coco = _load(root, split)
        assert len(coco['images']) == n == summary[split]['images']
        assert len(coco['annotations']) == summary[split]['instances'] > 0
        for im in coco['images']:
            assert osp.isfile(osp.join(root, split, im['file_name']))


def test_categories_are_cocos_names_and_ids(det_root):
    root, _ = det_root
    coco = _load(root)
    assert [(c['id'], c['name']) for c in coco['categories']] == [
        (1, 'person'), (3, 'car'), (37, 'sports ball')]
    assert tuple(c['name'] for c in coco['categories']) == DET_CLASSES
    used = {a['category_id'] for a in coco['annotations']}
    assert used == {1, 3, 37}  # 12 images are enough to see every class


def test_boxes_are_the_tight_boxes_of_the_masks_and_area_their_size(
        det_root):
    root, _ = det_root
    coco = _load(root)
    size = {im['id']: (im['height'], im['width']) for im in coco['images']}
    ids = set()
    for a in coco['annotations']:
        assert a['id'] not in ids
        ids.add(a['id'])
        m = _masks(a, *size[a['image_id']])
        ys, xs = np.nonzero(m)
        x, y, w, h = a['bbox']
        assert (x, y) == (xs.min(), ys.min())
        assert (x + w - 1, y + h - 1) == (xs.max(), ys.max())
        assert a['area'] == m.sum() > 40
        assert a['iscrowd'] == 0


def test_visible_masks_of_one_image_do_not_overlap(det_root):
    root, _ = det_root
    coco = _load(root)
    for im in coco['images']:
        anns = [a for a in coco['annotations'] if a['image_id'] == im['id']]
        total = np.zeros((im['height'], im['width']), np.int32)
        for a in anns:
            total += _masks(a, im['height'], im['width'])
        assert total.max() <= 1


def test_same_seed_same_annotations(tmp_path, det_root):
    root, _ = det_root
    generate_coco_detection(str(tmp_path), num_train=12, num_val=6, seed=5)
    assert _load(str(tmp_path)) == _load(root)
    other = tmp_path / 'other'  # and the seed is what decides
    generate_coco_detection(str(other), num_train=12, num_val=6, seed=6)
    assert _load(str(other))['annotations'] != _load(root)['annotations']


def test_mmdet_coco_dataset_reads_boxes_labels_and_masks(det_root):
    from mmdet.datasets import CocoDataset
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    root, _ = det_root
    ds = CocoDataset(
        data_root=root, ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'), metainfo=dict(classes=DET_CLASSES),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True,
                       with_mask=True),
                  dict(type='PackDetInputs')],
        test_mode=True)
    coco = _load(root, 'val2017')
    assert len(ds) == len(coco['images'])
    label_of = {1: 0, 3: 1, 37: 2}
    for k in range(len(ds)):
        sample = ds[k]['data_samples']
        img_id = sample.img_id
        anns = [a for a in coco['annotations'] if a['image_id'] == img_id]
        gt = sample.gt_instances
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in
                          (a['bbox'] for a in anns)]).reshape(-1, 4)
        np.testing.assert_allclose(gt.bboxes.numpy(), boxes)
        assert gt.labels.tolist() == [label_of[a['category_id']]
                                      for a in anns]
        masks = gt.masks.to_ndarray().astype(bool)
        for m, a in zip(masks, anns):
            assert np.array_equal(m, _masks(a, *m.shape))


@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
def test_pycocotools_scores_the_ground_truth_as_perfect(det_root, iou_type):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    root, _ = det_root
    path = osp.join(root, 'annotations', 'instances_val2017.json')
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(path)
        dets = [dict(image_id=a['image_id'], category_id=a['category_id'],
                     bbox=a['bbox'], segmentation=a['segmentation'],
                     score=1.0) for a in gt.dataset['annotations']]
        ev = COCOeval(gt, gt.loadRes(dets), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0)


def test_generate_demo_data_writes_det_only_when_asked(tmp_path):
    tool = load_tool('generate_demo_data.py')
    tool.main(['--out', str(tmp_path), '--only', 'det', '--det-train', '2',
               '--det-val', '1'])
    assert len(_load(str(tmp_path / 'coco'))['images']) == 2
    assert len(_load(str(tmp_path / 'coco'), 'val2017')['images']) == 1
    assert not (tmp_path / 'coco' / 'annotations' /
                'person_keypoints_train2017.json').exists()
    stamp = json.loads((tmp_path / 'generator.json').read_text())
    assert stamp['only'] == 'det' and stamp['det_train'] == 2
