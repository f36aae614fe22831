"""The built-in AFLW (19 points), COFW (29) and 300W (68) faces: valid data
for mmpose's dataset classes, each point where the format's mark-up and
flip pairs put it, and the benchmarks' evaluation subsets."""
import json

import numpy as np
import pytest

from hrformer_mm.datasets.synthetic import (FACE_FORMATS, WFLW_FLIP_PAIRS,
                                            generate_faces, generate_wflw)

# format -> (mmpose dataset class, points, its annotation files)
FORMATS = {
    'aflw': ('AFLWDataset', 19, [
        'face_landmarks_aflw_train.json', 'face_landmarks_aflw_test.json',
        'face_landmarks_aflw_test_frontal.json']),
    'cofw': ('COFWDataset', 29, ['cofw_train.json', 'cofw_test.json']),
    '300w': ('Face300WDataset', 68, [
        'face_landmarks_300w_train.json', 'face_landmarks_300w_valid.json',
        'face_landmarks_300w_valid_common.json',
        'face_landmarks_300w_valid_challenge.json',
        'face_landmarks_300w_test.json']),
}
SEED = 1


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    out = {}
    for name in ('wflw', *FORMATS):
        out[name] = tmp_path_factory.mktemp(name)
        generate_faces(str(out[name]), name, num_train=4, num_test=6,
                       image_size=(96, 96), seed=SEED)
    return out


def _load(root, filename):
    with open(root / 'annotations' / filename) as f:
        data = json.load(f)
    kp = np.array([a['keypoints'] for a in data['annotations']])
    return data, kp.reshape(len(kp), -1, 3)


def _dataset_class(name):
    import mmpose.datasets as datasets
    return getattr(datasets, dict(wflw='WFLWDataset').get(name) or
                   FORMATS[name][0])


def _meta(name):
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    return parse_pose_metainfo(_dataset_class(name).METAINFO)


@pytest.mark.parametrize('name', FORMATS)
@pytest.mark.slow
def test_mmpose_dataset_class_reads_every_file(roots, name):
    num_points, files = FORMATS[name][1:]
    for filename in files:
        data, _ = _load(roots[name], filename)
        ds = _dataset_class(name)(
            data_root=str(roots[name]), data_mode='topdown',
            ann_file=f'annotations/{filename}',
            data_prefix=dict(img='images/'), test_mode=True, pipeline=[])
        assert len(ds) == len(data['annotations']) > 0, filename
        item = ds[0]
        assert item['keypoints'].shape == (1, num_points, 2)
        assert item['keypoints_visible'].min() == 1
        # the box holds every landmark (kept to 0.01 pixel in the file)
        (x0, y0, x1, y1), kp = item['bbox'][0] + [-5e-3, -5e-3, 5e-3, 5e-3], \
            item['keypoints'][0]
        assert (kp[:, 0] >= x0).all() and (kp[:, 0] <= x1).all()
        assert (kp[:, 1] >= y0).all() and (kp[:, 1] <= y1).all()
        if name == 'aflw':  # AFLWDataset asserts it in test mode
            assert item['box_size'] > 0


@pytest.mark.parametrize('name', FORMATS)
def test_flip_pairs_are_mmpose_pairs(name):
    fmt = FACE_FORMATS[name]
    assert fmt.num_keypoints == _meta(name)['num_keypoints'] == \
        FORMATS[name][1]
    assert {tuple(sorted(p)) for p in _meta(name)['flip_pairs']} == \
        {tuple(sorted(p)) for p in fmt.flip_pairs}


@pytest.mark.parametrize('name', FORMATS)
def test_flipping_the_face_moves_each_point_to_its_pair(roots, name):
    """Mirror a WFLW face (mmpose's flip with WFLW's pairs) and map it to
    the format: the result is the format's points of the unmirrored face
    flipped with the format's pairs (mmpose's metainfo)."""
    from mmpose.structures import flip_keypoints
    wflw = _meta('wflw')
    ours = _meta(name)
    points = FACE_FORMATS[name].points
    _, kp98 = _load(roots['wflw'], 'face_landmarks_wflw_train.json')
    w = 96

    def to_format(kp):
        return np.stack([kp[:, list(p)].mean(1) for p in points], 1)

    def flip(kp, meta):
        out, _ = flip_keypoints(kp, np.ones(kp.shape[:2]), (w, w),
                                meta['flip_indices'])
        return out

    kp98 = kp98[..., :2]
    mirrored = to_format(flip(kp98, wflw))
    expected = flip(to_format(kp98), ours)
    np.testing.assert_allclose(mirrored, expected, atol=1e-6)
    # and the faces are not symmetric, so a wrong pair would show
    assert np.abs(to_format(kp98) - expected).max() > 1.0


def test_wflw_pairs_unchanged():
    assert FACE_FORMATS['wflw'].flip_pairs == tuple(WFLW_FLIP_PAIRS)
    assert FACE_FORMATS['wflw'].points == tuple((i, ) for i in range(98))


@pytest.mark.parametrize('name', FORMATS)
def test_same_seed_same_faces_as_wflw(roots, name):
    """A format's training faces are the WFLW faces of the same seed, its
    points the WFLW points mapped (to the 0.01 pixel the files keep)."""
    points = FACE_FORMATS[name].points
    _, kp98 = _load(roots['wflw'], 'face_landmarks_wflw_train.json')
    _, kp = _load(roots[name], FORMATS[name][2][0])
    mapped = np.stack([kp98[:, list(p), :2].mean(1) for p in points], 1)
    np.testing.assert_allclose(kp[..., :2], mapped, atol=0.011)


@pytest.mark.parametrize('name,first,second,inner', [
    ('cofw', 8, 9, (10, 11)), ('300w', 36, 45, (39, 42))])
def test_nme_normalisers_are_the_outer_eye_corners(roots, name, first,
                                                   second, inner):
    """mmpose (and the HRNet release) normalise COFW's NME by points 8 / 9
    and 300W's by 36 / 45: the outer eye corners, left and right."""
    _, kp = _load(roots[name], FORMATS[name][2][0])
    outer = kp[:, second, :2] - kp[:, first, :2]
    between = np.linalg.norm(kp[:, inner[0], :2] - kp[:, inner[1], :2],
                             axis=1)
    assert (np.linalg.norm(outer, axis=1) > 1.5 * between).all()
    assert (kp[:, first, 0] < kp[:, second, 0]).all()  # left, then right


def test_aflw_frontal_is_the_small_yaw_part_of_the_test_set(roots):
    full, kp = _load(roots['aflw'], 'face_landmarks_aflw_test.json')
    frontal, _ = _load(roots['aflw'], 'face_landmarks_aflw_test_frontal.json')
    ids = [a['id'] for a in full['annotations']]
    chosen = [a['id'] for a in frontal['annotations']]
    assert 0 < len(chosen) < len(ids) and set(chosen) <= set(ids)
    # yaw turns the face: the nose tip (13) leaves the middle of the inner
    # eye corners (8, 9) along the eye line (outer corners 6 -> 11) by more
    # on the faces left out
    eyes = kp[:, 11, :2] - kp[:, 6, :2]
    tip = kp[:, 13, :2] - (kp[:, 8, :2] + kp[:, 9, :2]) / 2
    off = np.abs((tip * eyes).sum(1)) / (eyes**2).sum(1)
    inside = np.isin(ids, chosen)
    assert off[inside].max() < off[~inside].min()


def test_300w_common_and_challenging_split_the_validation_set(roots):
    ids = {}
    for part in ('valid', 'valid_common', 'valid_challenge', 'test'):
        data, _ = _load(roots['300w'], f'face_landmarks_300w_{part}.json')
        ids[part] = [a['id'] for a in data['annotations']]
        assert [i['id'] for i in data['images']] == ids[part]
    assert ids['valid_common'] and ids['valid_challenge']
    assert sorted(ids['valid_common'] + ids['valid_challenge']) == \
        sorted(ids['valid'])
    assert not set(ids['test']) & set(ids['valid'])  # its own images
    assert len(ids['test']) == 6


def test_generate_wflw_is_the_wflw_format(tmp_path):
    generate_wflw(str(tmp_path / 'a'), 2, 1, seed=5)
    generate_faces(str(tmp_path / 'b'), 'wflw', 2, 1, seed=5)
    for name in ('images/train/00000001.jpg',
                 'annotations/face_landmarks_wflw_test.json'):
        assert (tmp_path / 'a' / name).read_bytes() == \
            (tmp_path / 'b' / name).read_bytes()


@pytest.mark.parametrize('name', FORMATS)
def test_generate_demo_data_only_writes_the_format(tmp_path, name):
    from e2e_utils import load_tool
    tool = load_tool('generate_demo_data.py')
    tool.main(['--out', str(tmp_path), '--only', name, '--face-train', '1',
               '--face-val', '1'])
    written = sorted(p.name for p in (tmp_path / name / 'annotations')
                     .iterdir())
    assert written == sorted(FORMATS[name][2])
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        sorted([name, 'generator.json'])
