"""Per-sample augmentation seeds (hrformer_mm/datasets/sample_seeding.py):
a draw of sample ``index`` in pass ``epoch`` of a run seeded ``seed`` is
the same whichever process draws it and in whatever order, and leaves the
caller's random streams where they were."""
import itertools
import pickle
import random

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from torch.utils.data import DataLoader

from hrformer_mm.datasets import SampleKey, SampleSeededDataset, seeded_draws
from hrformer_mm.engine.cluster import (ResumableDefaultSampler,
                                        ResumableInfiniteSampler,
                                        sample_seeded_cfg)


class AugmentedImages:
    """Six 16x16 images through mmcv's random resize and flip, plus one
    draw of each stream a transform may use (python, numpy, torch)."""

    def __init__(self):
        self.pipeline = Compose([
            dict(type='RandomResize', scale=(16, 16), ratio_range=(0.5, 2.0),
                 keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ])
        self.metainfo = dict(classes=('a', 'b'))

    def __len__(self):
        return 6

    def get_data_info(self, index):
        return dict(index=index)

    def __getitem__(self, index):
        img = np.arange(16 * 16 * 3, dtype=np.uint8).reshape(16, 16, 3)
        out = self.pipeline(dict(img=img + index))
        return (out['img'], random.random(), np.random.rand(),
                torch.rand(()).item())


def _same(a, b) -> bool:
    return a[0].shape == b[0].shape and np.array_equal(a[0], b[0]) and \
        a[1:] == b[1:]


KEYS = [SampleKey(7, epoch, index) for epoch in (0, 1) for index in range(6)]


def test_same_key_same_draw_in_any_order_and_process():
    dataset = SampleSeededDataset(AugmentedImages())
    forward = {key: dataset[key] for key in KEYS}
    random.seed(1), np.random.seed(1), torch.manual_seed(1)  # other streams
    backward = {key: dataset[key] for key in reversed(KEYS)}
    # two worker processes, each seeded differently, taking turns
    loader = DataLoader(dataset, sampler=KEYS[::-1], batch_size=1,
                        num_workers=2, collate_fn=lambda batch: batch[0])
    in_workers = dict(zip(KEYS[::-1], loader))
    for key in KEYS:
        assert _same(forward[key], backward[key]), key
        assert _same(forward[key], in_workers[key]), key


def test_another_index_epoch_or_seed_draws_differently():
    dataset = SampleSeededDataset(AugmentedImages())
    draws = [dataset[key][1:] for key in KEYS]
    draws.append(dataset[SampleKey(8, 0, 0)][1:])
    # python, numpy and torch values: all 13 draws distinct in each stream
    for stream in zip(*draws):
        assert len(set(stream)) == len(draws)
    # and the augmentation itself varies (random scale / flip)
    shapes = {dataset[key][0].shape for key in KEYS}
    assert len(shapes) > 1


def test_a_draw_leaves_the_callers_random_streams_unchanged():
    random.seed(3), np.random.seed(3), torch.manual_seed(3)
    expected = random.random(), np.random.rand(), torch.rand(3)
    random.seed(3), np.random.seed(3), torch.manual_seed(3)
    SampleSeededDataset(AugmentedImages())[SampleKey(7, 0, 2)]
    after = random.random(), np.random.rand(), torch.rand(3)
    assert after[:2] == expected[:2]
    assert torch.equal(after[2], expected[2])


def test_a_bare_index_is_the_wrapped_datasets_item():
    random.seed(3), np.random.seed(3), torch.manual_seed(3)
    direct = AugmentedImages()[2]
    random.seed(3), np.random.seed(3), torch.manual_seed(3)
    assert _same(SampleSeededDataset(AugmentedImages())[2], direct)


def test_seeded_draws_leave_the_cuda_generators_alone(monkeypatch):
    # torch.manual_seed reseeds every CUDA generator as well (lazily where
    # CUDA is not initialised): in the main process of a GPU run that is
    # the dropout stream of the training step
    def reseed_cuda(seed):
        raise AssertionError('CUDA generators reseeded')

    monkeypatch.setattr(torch.cuda, 'manual_seed_all', reseed_cuda)
    monkeypatch.setattr(torch.cuda, 'manual_seed', reseed_cuda)
    with seeded_draws(7, 0, 1):
        torch.rand(())


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_seeded_draws_leave_the_cuda_rng_state_unchanged_on_a_gpu():
    torch.cuda.init()
    before = torch.cuda.get_rng_state()
    with seeded_draws(7, 0, 1):
        torch.rand(())
    assert torch.equal(torch.cuda.get_rng_state(), before)


def test_wrapper_passes_metainfo_and_unwraps_keys_for_data_info():
    dataset = SampleSeededDataset(AugmentedImages())
    assert dataset.metainfo == dict(classes=('a', 'b'))
    assert len(dataset) == 6
    assert dataset.get_data_info(SampleKey(7, 1, 4)) == dict(index=4)


def test_wrapper_survives_pickling_for_spawned_workers():
    dataset = SampleSeededDataset(AugmentedImages())
    copy = pickle.loads(pickle.dumps(dataset))
    key = SampleKey(7, 0, 3)
    assert _same(copy[key], dataset[key])


def test_default_sampler_keys_carry_its_seed_epoch_and_skip():
    sampler = ResumableDefaultSampler(list(range(6)), seed=5,
                                      sample_keys=True)
    plain = ResumableDefaultSampler(list(range(6)), seed=5)
    sampler.set_epoch(3), plain.set_epoch(3)
    order = list(plain)
    assert list(sampler) == [SampleKey(5, 3, i) for i in order]
    sampler.skip(4)
    assert list(sampler) == [SampleKey(5, 3, i) for i in order[4:]]


def islice(sampler, n: int) -> list:
    return list(itertools.islice(sampler, n))


def test_infinite_sampler_counts_passes_through_the_data():
    sampler = ResumableInfiniteSampler(list(range(4)), seed=5,
                                       sample_keys=True)
    plain = ResumableInfiniteSampler(list(range(4)), seed=5)
    keys, order = islice(sampler, 10), islice(plain, 10)
    assert keys == [SampleKey(5, n // 4, i) for n, i in enumerate(order)]
    assert sorted(k.index for k in keys[4:8]) == [0, 1, 2, 3]
    sampler.skip(6)  # a resume 6 samples in continues the same stream
    assert islice(sampler, 4) == keys[6:]


@pytest.mark.parametrize('loader, applies', [
    (dict(sampler=dict(type='hrformer_mm.ResumableDefaultSampler')), True),
    (dict(sampler=dict(type='hrformer_mm.ResumableInfiniteSampler')), True),
    (dict(sampler=dict(type='hrformer_mm.ResumableDefaultSampler',
                       sample_keys=False)), False),
    (dict(sampler=dict(type='MySampler')), False),
    (dict(sampler=dict(type='hrformer_mm.ResumableDefaultSampler'),
          batch_sampler=dict(type='AspectRatioBatchSampler')), False),
])
def test_sample_seeded_cfg_wraps_the_dataset_of_resumable_samplers(
        loader, applies):
    inner = dict(type='CocoDataset', data_root='data/coco')
    loader['dataset'] = dict(inner)
    assert sample_seeded_cfg(loader) is applies
    if applies:
        assert loader['sampler']['sample_keys'] is True
        assert loader['dataset'] == dict(type=SampleSeededDataset,
                                         dataset=inner)
        sample_seeded_cfg(loader)  # once only
        assert loader['dataset']['dataset'] == inner
    else:
        assert loader['dataset'] == inner
