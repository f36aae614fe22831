"""The built-in parsing set is LIP data that mmseg's LIPDataset reads, each
figure's parts labelled with LIP's classes on the person's own side; and a
flipped training sample has its left / right labels exchanged."""
import numpy as np
import pytest
from PIL import Image

from hrformer_mm.datasets import SwapFlippedPartLabels, swapped_order
from hrformer_mm.datasets.synthetic import (LIP_CLASSES, LIP_FLIP_PAIRS,
                                            generate_lip)
from hrformer_mm.datasets.synthetic.lip import parsing_sample

# what a generated figure has: hair, upper clothes, face, arms, legs, shoes
FIGURE_LABELS = {0, 2, 5, 13, 14, 15, 16, 17, 18, 19}


@pytest.fixture(scope='module')
def lip_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('lip')
    generate_lip(str(root), num_train=6, num_val=3, seed=3)
    return root


def test_class_names_are_mmseg_lip_datasets():
    from mmseg.datasets import LIPDataset
    assert LIP_CLASSES == LIPDataset.METAINFO['classes']
    assert [LIP_CLASSES[i] for p in LIP_FLIP_PAIRS for i in p] == [
        'Left-arm', 'Right-arm', 'Left-leg', 'Right-leg', 'Left-shoe',
        'Right-shoe']


def test_mmseg_lip_dataset_reads_it(lip_root):
    from mmseg.datasets import LIPDataset
    for split, count in (('train', 6), ('val', 3)):
        ds = LIPDataset(data_root=str(lip_root), pipeline=[],
                        data_prefix=dict(
                            img_path=f'{split}_images',
                            seg_map_path=f'{split}_segmentations'))
        assert len(ds) == count
        item = ds[0]
        assert item['img_path'].endswith('.jpg')
        assert item['seg_map_path'].endswith('.png')
        label = np.asarray(Image.open(item['seg_map_path']))
        image = np.asarray(Image.open(item['img_path']))
        assert label.shape == image.shape[:2] == (128, 96)
        assert set(np.unique(label).tolist()) <= FIGURE_LABELS


def test_every_part_of_the_figure_is_labelled():
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(8):
        _, label, _ = parsing_sample(rng, 128, 96, occluded=0.0)
        seen |= set(np.unique(label).tolist())
    assert seen == FIGURE_LABELS


def test_sides_are_the_persons_own_as_the_keypoints_say():
    """The pixel under a visible COCO left wrist / knee / ankle carries
    LIP's Left-arm / Left-leg / Left-shoe, the right ones Right-*.  (A limb
    drawn later may cover another's joint, so a few may differ.)"""
    joints = {9: 14, 10: 15, 13: 16, 14: 17, 15: 18, 16: 19}
    rng = np.random.default_rng(1)
    own = other = 0
    for _ in range(30):
        _, label, kp = parsing_sample(rng, 128, 96)
        for j, cls in joints.items():
            x, y = np.round(kp[j]).astype(int)
            if not (0 <= x < 96 and 0 <= y < 128) or label[y, x] == 0:
                continue
            pair = next(p for p in LIP_FLIP_PAIRS if cls in p)
            mirror = pair[1] if cls == pair[0] else pair[0]
            own += label[y, x] == cls
            other += label[y, x] == mirror
    assert own >= 100
    assert other <= 0.05 * own


def test_swapped_order_exchanges_each_pair_once():
    order = swapped_order(20, LIP_FLIP_PAIRS)
    assert order[14] == 15 and order[15] == 14
    assert order[18] == 19 and order[19] == 18
    assert (order[:14] == np.arange(14)).all()
    with pytest.raises(ValueError, match='share a class'):
        swapped_order(20, [(14, 15), (15, 16)])
    with pytest.raises(ValueError, match='not two distinct'):
        swapped_order(20, [(14, 20)])


def test_flipped_training_sample_gets_the_other_sides_labels():
    from mmseg.datasets.transforms import RandomFlip
    _, label, _ = parsing_sample(np.random.default_rng(2), 128, 96)
    label[0, :5] = 255  # ignored pixels stay ignored
    results = dict(img=np.zeros((128, 96, 3), np.uint8),
                   gt_seg_map=label.copy(), seg_fields=['gt_seg_map'])
    flip = RandomFlip(prob=1.0, direction='horizontal')
    swap = SwapFlippedPartLabels(LIP_FLIP_PAIRS)
    out = swap(flip(results))
    mirrored = label[:, ::-1]
    expected = mirrored.copy()
    for a, b in LIP_FLIP_PAIRS:
        expected[mirrored == a], expected[mirrored == b] = b, a
    assert (out['gt_seg_map'] == expected).all()
    assert (out['gt_seg_map'][0, -5:] == 255).all()
    assert (out['gt_seg_map'] == 14).sum() == (label == 15).sum()
    # not flipped: unchanged
    kept = swap(dict(gt_seg_map=label.copy(), seg_fields=['gt_seg_map'],
                     flip=False))
    assert (kept['gt_seg_map'] == label).all()


def test_swap_rejects_no_pairs_and_labels_off_its_table():
    with pytest.raises(ValueError, match=r'flip_pairs needs .* got \[\]'):
        SwapFlippedPartLabels([])
    swap = SwapFlippedPartLabels([(1, 2)])
    for bad in (-1, 256):
        seg = np.array([[1, bad]], np.int64)
        with pytest.raises(ValueError, match=f'gt_seg_map holds label {bad}'):
            swap(dict(gt_seg_map=seg, seg_fields=['gt_seg_map'], flip=True,
                      flip_direction='horizontal'))


def test_generate_demo_data_only_parsing_writes_lip_alone(tmp_path):
    from e2e_utils import load_tool
    load_tool('generate_demo_data.py').main(
        ['--out', str(tmp_path), '--only', 'parsing', '--parsing-train', '2',
         '--parsing-val', '1'])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['generator.json',
                                                          'lip']
    assert len(list((tmp_path / 'lip' / 'train_segmentations').glob(
        '*.png'))) == 2
    assert len(list((tmp_path / 'lip' / 'val_images').glob('*.jpg'))) == 1
