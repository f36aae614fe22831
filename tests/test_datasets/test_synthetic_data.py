"""The built-in datasets are valid COCO / ADE20K data that the real mmpose
and mmseg dataset classes load."""
import json
import os

import numpy as np
import pytest

from hrformer_mm.datasets import (ADE20K_DEMO_CLASSES, COCO_KEYPOINTS,
                                  generate_ade20k, generate_coco_keypoints)


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco')
    generate_coco_keypoints(str(root), num_train=12, num_val=6, seed=3)
    return root


@pytest.fixture(scope='module')
def ade_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('ade')
    generate_ade20k(str(root), num_train=6, num_val=3, seed=3)
    return root


def _load(root, split):
    with open(root / 'annotations' / f'person_keypoints_{split}.json') as f:
        return json.load(f)


def test_coco_files_are_where_coco_keeps_them(coco_root):
    for rel in ('annotations/person_keypoints_train2017.json',
                'annotations/person_keypoints_val2017.json',
                'person_detection_results/'
                'COCO_val2017_detections_AP_H_56_person.json'):
        assert (coco_root / rel).is_file(), rel
    coco = _load(coco_root, 'val2017')
    for img in coco['images']:
        assert (coco_root / 'val2017' / img['file_name']).is_file()


def test_coco_annotations_have_17_keypoints_with_valid_visibility(coco_root):
    coco = _load(coco_root, 'train2017')
    assert coco['categories'][0]['keypoints'] == COCO_KEYPOINTS
    assert len(coco['annotations']) >= 12
    for ann in coco['annotations']:
        kps = np.array(ann['keypoints']).reshape(17, 3)
        assert set(np.unique(kps[:, 2])) <= {0, 1, 2}
        assert ann['num_keypoints'] == int((kps[:, 2] > 0).sum()) > 0
        assert (kps[kps[:, 2] == 0, :2] == 0).all()
        assert ann['iscrowd'] == 0 and ann['area'] > 0
        x, y, w, h = ann['bbox']
        assert w > 0 and h > 0


def test_visibility_one_marks_occluded_keypoints(coco_root):
    """Occluders and other people hide some keypoints: they are labelled
    v=1 (annotated, not visible), as in COCO."""
    vis = np.concatenate([
        np.array(a['keypoints']).reshape(17, 3)[:, 2]
        for a in _load(coco_root, 'train2017')['annotations']])
    assert (vis == 2).sum() > (vis == 1).sum() > 0


def test_detections_cover_every_val_person(coco_root):
    coco = _load(coco_root, 'val2017')
    with open(coco_root / 'person_detection_results' /
              'COCO_val2017_detections_AP_H_56_person.json') as f:
        dets = json.load(f)
    assert len(dets) == len(coco['annotations'])
    assert all(0 < d['score'] <= 1 and d['category_id'] == 1 for d in dets)


def test_generation_is_deterministic(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    generate_coco_keypoints(str(a), 3, 2, seed=7)
    generate_coco_keypoints(str(b), 3, 2, seed=7)
    assert _load(a, 'train2017') == _load(b, 'train2017')
    assert (a / 'train2017' / '000000000001.jpg').read_bytes() == \
        (b / 'train2017' / '000000000001.jpg').read_bytes()
    other = tmp_path / 'other'  # and the seed is what decides
    generate_coco_keypoints(str(other), 3, 2, seed=8)
    assert _load(other, 'train2017')['annotations'] != \
        _load(a, 'train2017')['annotations']


def test_mmpose_coco_dataset_reads_it(coco_root):
    from mmpose.datasets import CocoDataset
    ds = CocoDataset(data_root=str(coco_root) + '/', data_mode='topdown',
                     ann_file='annotations/person_keypoints_val2017.json',
                     bbox_file=str(coco_root / 'person_detection_results' /
                                   'COCO_val2017_detections_AP_H_56_person'
                                   '.json'),
                     data_prefix=dict(img='val2017/'), test_mode=True,
                     pipeline=[])
    assert len(ds) == len(_load(coco_root, 'val2017')['annotations'])
    assert ds[0]['keypoints'].shape == (1, 17, 2)


def test_ade20k_layout_and_labels(ade_root):
    import cv2
    for split, tag, n in (('training', 'train', 6), ('validation', 'val', 3)):
        imgs = sorted(os.listdir(ade_root / 'images' / split))
        anns = sorted(os.listdir(ade_root / 'annotations' / split))
        assert imgs[0] == f'ADE_{tag}_00000001.jpg' and len(imgs) == n
        assert [a[:-4] for a in anns] == [i[:-4] for i in imgs]
    label = cv2.imread(str(ade_root / 'annotations' / 'training' /
                           'ADE_train_00000001.png'), cv2.IMREAD_UNCHANGED)
    assert label.ndim == 2
    assert set(np.unique(label)) <= {0} | set(ADE20K_DEMO_CLASSES.values())


def test_mmseg_ade20k_dataset_reads_it(ade_root):
    from mmseg.datasets import ADE20KDataset
    ds = ADE20KDataset(data_root=str(ade_root),
                       data_prefix=dict(img_path='images/validation',
                                        seg_map_path='annotations/validation'),
                       pipeline=[])
    assert len(ds) == 3
    assert ds[0]['seg_map_path'].endswith('ADE_val_00000001.png')


def test_generate_script_regenerates_only_when_stale(tmp_path, capsys):
    """The demo calls the generator with --if-stale: data from the same
    generator version and arguments is kept, anything else is rewritten."""
    from e2e_utils import load_tool
    gen = load_tool('generate_demo_data.py')
    out = tmp_path / 'demo'
    args = ['--out', str(out), '--only', 'seg', '--seg-train', '2',
            '--seg-val', '1', '--if-stale']
    gen.main(args)
    img = out / 'ade' / 'images' / 'validation' / 'ADE_val_00000001.jpg'
    first, first_bytes = img.stat().st_mtime_ns, img.read_bytes()
    capsys.readouterr()
    gen.main(args)
    assert 'up to date' in capsys.readouterr().out
    assert img.stat().st_mtime_ns == first
    gen.main(args[:-1] + ['--seed', '1', '--if-stale'])  # other arguments
    assert 'up to date' not in capsys.readouterr().out
    assert img.read_bytes() != first_bytes


def test_small_people_fall_in_cocos_small_and_medium_ranges(tmp_path):
    """people='small' is the HRPVT demo's data: AP(M) must be populated,
    so nearly every person is COCO-medium (32^2..96^2) or small."""
    from hrformer_mm.datasets.synthetic.coco import COCO_AREA_RANGES
    summary = generate_coco_keypoints(str(tmp_path), num_train=1,
                                      num_val=20, seed=4, people='small')
    val = summary['val2017']
    assert val['people'] >= 2 * 20 * 0.8  # several people per image
    assert val['small'] + val['medium'] + val['large'] == val['people']
    assert val['medium'] >= 0.6 * val['people']
    assert val['large'] <= 0.15 * val['people']
    coco = _load(tmp_path, 'val2017')
    assert {(i['height'], i['width']) for i in coco['images']} == {(240, 320)}
    lo, hi = COCO_AREA_RANGES['medium']
    assert sum(lo <= a['area'] < hi for a in coco['annotations']) == \
        val['medium']


def test_unknown_people_setting_is_refused(tmp_path):
    with pytest.raises(ValueError, match="people must be one of"):
        generate_coco_keypoints(str(tmp_path), 1, 1, people='tiny')
