"""The built-in ImageNet-layout classification data (the cls demo's) is
what mmpretrain's CustomDataset reads, and the same for the same seed."""
import os.path as osp

import pytest

from hrformer_mm.datasets.synthetic import CLS_CLASSES, generate_imagenet


@pytest.fixture(scope='module')
def imagenet_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('imagenet')
    generate_imagenet(str(root), num_train=2, num_val=1, image_size=(32, 32),
                      seed=1)
    return str(root)


def test_generated_layout_is_what_custom_dataset_reads(imagenet_root):
    from mmpretrain.datasets import CustomDataset
    for split, per_class in (('train', 2), ('val', 1)):
        ds = CustomDataset(data_root=imagenet_root,
                           data_prefix=dict(img_path=split), pipeline=[])
        assert tuple(ds.CLASSES) == CLS_CLASSES
        assert len(ds) == per_class * len(CLS_CLASSES)
        # the folder labels are the ann_file's (meta/<split>.txt)
        listed = {}
        with open(osp.join(imagenet_root, 'meta', f'{split}.txt')) as f:
            for line in f:
                rel, label = line.split()
                listed[osp.join(imagenet_root, split, rel)] = int(label)
        assert {d['img_path']: d['gt_label'] for d in
                (ds.get_data_info(i) for i in range(len(ds)))} == listed


def _train_images(root):
    with open(osp.join(root, 'meta', 'train.txt')) as f:
        rels = [line.split()[0] for line in f]
    images = {}
    for rel in rels:
        with open(osp.join(root, 'train', rel), 'rb') as f:
            images[rel] = f.read()
    return images


def test_generation_is_deterministic(imagenet_root, tmp_path):
    again, other = str(tmp_path / 'again'), str(tmp_path / 'other')
    for root, seed in ((again, 1), (other, 2)):
        generate_imagenet(root, num_train=2, num_val=1, image_size=(32, 32),
                          seed=seed)
    first = _train_images(imagenet_root)
    assert len(first) == 2 * len(CLS_CLASSES)
    assert _train_images(again) == first
    # and the seed is what decides: every image differs under another one
    different = _train_images(other)
    assert different.keys() == first.keys()
    assert all(different[k] != first[k] for k in first)
