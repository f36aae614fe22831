"""On a CUDA GPU, with real kernels and data, what test_fake_cuda.py checks
without one: every family's training step (backward, the config's Adam /
AdamW, bf16 autocast with ``--amp``'s dynamic loss scaling) and inference,
and a run resumed from a checkpoint that ``Runner.resume`` loads onto the
GPU.

Skipped, with the reason, where no CUDA device is present (the CPU-only
suite emulates the device side: test_fake_cuda.py, test_rng_state_hook.py).
"""
import random

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from test_fake_cuda import FAMILIES, batch, bf16_optim_wrapper, build

from hrformer_mm.engine.hooks import RNGStateHook

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='needs a CUDA GPU')


@pytest.mark.parametrize('family', list(FAMILIES))
def test_training_step_and_inference_on_the_gpu_in_bf16(family):
    torch.manual_seed(0)
    cfg, model = build(family)
    model.cuda()
    optim_wrapper = bf16_optim_wrapper(cfg, model, loss_scale='dynamic')
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.train()
    log_vars = model.train_step(batch(cfg), optim_wrapper=optim_wrapper)
    assert torch.isfinite(log_vars['loss'])
    moved = [n for n, p in model.named_parameters()
             if not torch.equal(p, before[n])]
    assert moved, 'no parameter changed'
    assert all(torch.isfinite(p).all() for p in model.parameters())
    for state in optim_wrapper.optimizer.state.values():
        assert state['step'].device.type == 'cpu'
    model.eval()
    with torch.no_grad(), torch.autocast('cuda', dtype=torch.bfloat16):
        data = model.data_preprocessor(batch(cfg), False)
        out = model(data['inputs'], data['data_samples'], mode='tensor')
    for o in (out if isinstance(out, tuple) else [out]):
        assert o.is_cuda and o.dtype == torch.bfloat16
        assert torch.isfinite(o).all()


def _draws():
    return (random.random(), float(np.random.rand()), torch.rand(3),
            torch.rand(3, device='cuda'))


def test_rng_streams_resume_from_a_checkpoint_loaded_onto_the_gpu(tmp_path):
    torch.cuda.init()
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    checkpoint = {}
    RNGStateHook().before_save_checkpoint(None, checkpoint)
    assert 'cuda' in checkpoint['rng_states'][0]
    expected = _draws()
    torch.save(checkpoint, tmp_path / 'rng.pth')
    loaded = torch.load(tmp_path / 'rng.pth', map_location='cuda',
                        weights_only=False)
    assert loaded['rng_states'][0]['cuda'].is_cuda
    RNGStateHook().after_load_checkpoint(None, loaded)
    got = _draws()
    assert got[:2] == expected[:2]
    assert torch.equal(got[2], expected[2])
    assert torch.equal(got[3], expected[3])


class NoisyRegressor(BaseModel):
    """Draws from every stream RNGStateHook restores: dropout (the CUDA
    generator), input noise (torch's CPU generator), NumPy and Python."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(8, 32), nn.Linear(32, 1)
        self.drop = nn.Dropout(0.5)

    def forward(self, x, y, mode='loss'):
        scale = float(np.random.rand()) * random.random()
        x = x + scale * torch.randn(x.shape).to(x.device)
        out = self.fc2(self.drop(F.relu(self.fc1(x))))
        return dict(loss=F.mse_loss(out, y))


class RegressionData(torch.utils.data.Dataset):

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(64, 8, generator=g)
        self.y = torch.randn(64, 1, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(x=self.x[i], y=self.y[i])


def _runner(work_dir, max_iters: int, resume: bool = False):
    from mmengine.runner import Runner
    torch.manual_seed(0)  # the same initial weights in every run
    return Runner(
        model=NoisyRegressor(), work_dir=str(work_dir),
        experiment_name=f'{work_dir.name}_{max_iters}_{resume}',
        train_dataloader=dict(
            dataset=RegressionData(), batch_size=4, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(type='hrformer_mm.ResumableIterBasedTrainLoop',
                       max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-2)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           by_epoch=False, interval=2)),
        custom_hooks=[dict(type='hrformer_mm.RNGStateHook')],
        randomness=dict(seed=0), resume=resume)


def test_resumed_run_on_the_gpu_ends_as_the_uninterrupted_one(tmp_path):
    """``--resume`` on a GPU: mmengine loads the checkpoint with
    ``map_location='cuda'``."""
    full = _runner(tmp_path / 'full', 4)
    full.train()
    _runner(tmp_path / 'part', 2).train()
    resumed = _runner(tmp_path / 'part', 4, resume=True)
    resumed.train()
    assert next(resumed.model.parameters()).is_cuda
    for state in resumed.optim_wrapper.optimizer.state.values():
        assert state['step'].device.type == 'cpu'
    for a, b in zip(full.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
