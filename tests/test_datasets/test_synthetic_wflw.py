"""The built-in face set is valid WFLW data that mmpose's WFLWDataset loads,
with every landmark where WFLW puts it."""
import json

import numpy as np
import pytest

from hrformer_mm.datasets import generate_wflw
from hrformer_mm.datasets.synthetic import WFLW_FLIP_PAIRS


@pytest.fixture(scope='module')
def wflw_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('wflw')
    generate_wflw(str(root), num_train=12, num_test=4, seed=3)
    return root


def _keypoints(root, split='train'):
    with open(root / 'annotations' / f'face_landmarks_wflw_{split}.json') as f:
        data = json.load(f)
    return data, np.array([a['keypoints'] for a in data['annotations']
                           ]).reshape(-1, 98, 3)


def test_mmpose_wflw_dataset_reads_it(wflw_root):
    from mmpose.datasets import WFLWDataset
    ds = WFLWDataset(data_root=str(wflw_root), data_mode='topdown',
                     ann_file='annotations/face_landmarks_wflw_test.json',
                     data_prefix=dict(img='images/'), test_mode=True,
                     pipeline=[])
    assert len(ds) == 4
    item = ds[0]
    assert item['keypoints'].shape == (1, 98, 2)
    assert item['img_path'].endswith('.jpg')
    # the box (center, scale * 200) holds every landmark
    (x0, y0, x1, y1), kp = item['bbox'][0], item['keypoints'][0]
    assert (kp[:, 0] >= x0).all() and (kp[:, 0] <= x1).all()
    assert (kp[:, 1] >= y0).all() and (kp[:, 1] <= y1).all()


def test_flip_pairs_are_mmpose_wflw_pairs():
    from mmpose.datasets import WFLWDataset
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    meta = parse_pose_metainfo(WFLWDataset.METAINFO)
    assert {tuple(sorted(p)) for p in meta['flip_pairs']} == \
        set(WFLW_FLIP_PAIRS)


def test_flip_partners_mirror_each_other():
    """Flip augmentation swaps each pair, so on the unposed face the two
    points of a pair lie on opposite sides of the centre line at the same
    height (the pupils share the gaze offset, so only their sides count)."""
    from hrformer_mm.datasets.synthetic.wflw import _face_points
    rng = np.random.default_rng(0)
    for _ in range(5):
        p, _ = _face_points(rng)
        for a, b in WFLW_FLIP_PAIRS:
            assert p[a, 0] * p[b, 0] < 0, (a, b)
            assert p[a, 1] == pytest.approx(p[b, 1], abs=1e-6), (a, b)
            if (a, b) != (96, 97):
                assert p[a, 0] == pytest.approx(-p[b, 0], abs=1e-6), (a, b)


def test_nme_normalisers_are_the_outer_eye_corners(wflw_root):
    """mmpose normalises WFLW's NME by points 60 and 72."""
    _, kp = _keypoints(wflw_root)
    outer = np.linalg.norm(kp[:, 60, :2] - kp[:, 72, :2], axis=1)
    inner = np.linalg.norm(kp[:, 64, :2] - kp[:, 68, :2], axis=1)
    assert (outer > 1.5 * inner).all()


def test_all_98_points_inside_the_image_and_visible(wflw_root):
    data, kp = _keypoints(wflw_root)
    h, w = data['images'][0]['height'], data['images'][0]['width']
    assert kp.shape[1:] == (98, 3) and (kp[..., 2] == 2).all()
    assert (kp[..., 0] >= 0).all() and (kp[..., 0] < w).all()
    assert (kp[..., 1] >= 0).all() and (kp[..., 1] < h).all()


def test_faces_vary(wflw_root):
    """Pose, size and position differ from face to face (not one template
    pasted around)."""
    _, kp = _keypoints(wflw_root)
    eye_dist = np.linalg.norm(kp[:, 60, :2] - kp[:, 72, :2], axis=1)
    assert eye_dist.std() / eye_dist.mean() > 0.1
    tilt = np.arctan2(kp[:, 72, 1] - kp[:, 60, 1], kp[:, 72, 0] - kp[:, 60, 0])
    assert tilt.std() > 0.1


def test_same_seed_same_data(tmp_path):
    generate_wflw(str(tmp_path / 'a'), 2, 1, seed=5)
    generate_wflw(str(tmp_path / 'b'), 2, 1, seed=5)
    for name in ('images/train/00000001.jpg',
                 'annotations/face_landmarks_wflw_train.json'):
        assert (tmp_path / 'a' / name).read_bytes() == \
            (tmp_path / 'b' / name).read_bytes()
    generate_wflw(str(tmp_path / 'c'), 2, 1, seed=6)  # the seed decides
    for name in ('images/train/00000001.jpg',
                 'annotations/face_landmarks_wflw_train.json'):
        assert (tmp_path / 'c' / name).read_bytes() != \
            (tmp_path / 'a' / name).read_bytes()
