"""Augmentation that depends on the sample, not on the worker drawing it.

mmcv's, mmpose's and mmseg's transforms draw from the process-wide random
streams (``numpy.random``, ``random``, some of them torch's).  In
dataloader workers those streams are seeded once per worker, so what a
sample gets depends on which worker draws it and on how many samples that
worker drew before; a resumed run starts new workers from their seeds, so
its augmentations differ from the uninterrupted run's.

Here each draw of a sample seeds the three streams from ``(seed, epoch,
index)`` and puts them back afterwards.  A sample's augmentation is then a
function of the run's seed, the pass through the data and the sample's
index only: the same with 0 or 8 workers, persistent or not, before and
after a resume.  Putting the streams back keeps the main process's own
draws (dropout, drop path) where they were when it runs the pipeline itself
(``num_workers=0``).

The resumable samplers (``hrformer_mm.engine.cluster``) yield
:class:`SampleKey` s in place of bare indices and the resumable loops wrap
the training dataset in :class:`SampleSeededDataset`.  Transforms that keep
state from one sample to the next (mmdet's ``CachedMosaic``, say) or own a
generator of their own are outside what this controls.
"""
import random
from contextlib import contextmanager
from typing import Iterator, NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

_MASK64 = (1 << 64) - 1


class SampleKey(NamedTuple):
    """One draw of a sample: the sampler's seed, the pass through the data
    (the epoch; for an infinite sampler, how many times its stream has gone
    through the data) and the dataset index."""
    seed: int
    epoch: int
    index: int


def draw_seeds(seed: int, epoch: int, index: int) -> np.ndarray:
    """Ten 32-bit words for one draw: four for python's ``random``, four
    for ``numpy.random``, two for torch.  numpy's ``SeedSequence`` hashes
    ``(seed, epoch, index)``, so neighbouring indices or epochs get
    unrelated streams."""
    return np.random.SeedSequence(
        seed & _MASK64, spawn_key=(int(epoch), int(index))).generate_state(10)


@contextmanager
def seeded_draws(seed: int, epoch: int, index: int) -> Iterator[None]:
    """Seed ``random``, ``numpy.random`` and torch's CPU generator for one
    draw of sample ``index`` (see :func:`draw_seeds`); their states are
    restored on exit.  Only the CPU generator: ``torch.manual_seed`` would
    reseed every CUDA generator too, the main process's dropout streams on
    a GPU."""
    words = draw_seeds(seed, epoch, index)
    cpu = torch.default_generator
    saved = random.getstate(), np.random.get_state(), cpu.get_state()
    try:
        random.seed(int.from_bytes(words[:4].tobytes(), 'little'))
        np.random.seed(words[4:8])
        cpu.manual_seed(int.from_bytes(words[8:].tobytes(), 'little') >> 1)
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        cpu.set_state(saved[2])


class SampleSeededDataset(Dataset):
    """A dataset whose item :class:`SampleKey` ``(seed, epoch, index)`` is
    item ``index`` of ``dataset`` drawn under :func:`seeded_draws`; a bare
    index is passed on as it is.  Everything else (``metainfo``,
    ``get_data_info``, ...) is the wrapped dataset's.

    Args:
        dataset: the dataset, or its config (built with mmengine's
            ``DATASETS`` in the current default scope).
    """

    def __init__(self, dataset):
        if isinstance(dataset, dict):
            from mmengine.registry import DATASETS
            dataset = DATASETS.build(dataset)
        self.dataset = dataset

    def full_init(self) -> None:
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        if isinstance(key, SampleKey):
            with seeded_draws(*key):
                return self.dataset[key.index]
        return self.dataset[key]

    def get_data_info(self, key):
        # batch samplers that group by image size ask for it per key
        return self.dataset.get_data_info(
            key.index if isinstance(key, SampleKey) else key)

    def __getattr__(self, name):
        # only reached for names this wrapper lacks; 'dataset' itself is
        # missing while unpickling (spawned workers), before __dict__ is set
        if name == 'dataset' or name.startswith('__'):
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.dataset!r})'
