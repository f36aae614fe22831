"""RNGStateHook restores the random streams of a checkpoint whatever device
the checkpoint was loaded onto.

On a GPU machine mmengine's ``Runner.resume`` loads checkpoints with
``map_location='cuda'``, so the hook receives the saved generator states as
CUDA tensors, while ``torch.set_rng_state`` and ``torch.cuda.set_rng_state``
take CPU byte tensors only.  ``OnDevice`` below stands in for such a tensor
on this CPU-only machine.
"""
import random
from types import SimpleNamespace

import numpy as np
import torch

from hrformer_mm.engine.hooks import RNGStateHook

aten = torch.ops.aten


class OnDevice(torch.Tensor):
    """A tensor that reports ``device`` (as ``torch.load`` with a GPU
    ``map_location`` returns it) and holds its values on the host.  Only
    copies to the CPU are supported: any other operation would mix it with
    host tensors, which a real CUDA tensor refuses too."""

    @staticmethod
    def __new__(cls, host: torch.Tensor, device: str):
        t = torch.Tensor._make_wrapper_subclass(
            cls, host.shape, strides=host.stride(), dtype=host.dtype,
            device=device)
        t.host = host
        return t

    def __repr__(self):
        return f'OnDevice(device={self.device}, dtype={self.dtype})'

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is aten._to_copy.default and \
                torch.device(kwargs.get('device', args[0].device)).type == \
                'cpu':
            kwargs.pop('device', None)
            return aten._to_copy.default(args[0].host, **kwargs)
        raise RuntimeError(f'{func} on a {args[0].device} tensor')


def moved_to(obj, device: str):
    """``obj`` with every tensor in it on ``device``, as ``torch.load``'s
    ``map_location`` leaves a checkpoint."""
    if isinstance(obj, torch.Tensor):
        return OnDevice(obj, device)
    if isinstance(obj, dict):
        return {k: moved_to(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(moved_to(v, device) for v in obj)
    return obj


def draws():
    """The next values of the Python, NumPy and torch streams."""
    return (random.random(), float(np.random.rand()),
            torch.rand(4).tolist())


def test_gpu_loaded_rng_states_restore_the_saved_streams(monkeypatch):
    saved_cuda = torch.arange(16, dtype=torch.uint8)
    restored_cuda = []

    def set_cuda_state(state):
        # what the CUDA generator checks before it takes a state
        if state.device.type != 'cpu' or state.dtype != torch.uint8:
            raise TypeError('RNG state must be a torch.ByteTensor')
        restored_cuda.append(state.clone())

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_initialized', lambda: True)
    monkeypatch.setattr(torch.cuda, 'get_rng_state',
                        lambda *a, **k: saved_cuda.clone())
    monkeypatch.setattr(torch.cuda, 'set_rng_state', set_cuda_state)
    random.seed(3)
    np.random.seed(3)
    torch.manual_seed(3)
    hook, runner = RNGStateHook(), SimpleNamespace()
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    expected = draws()
    draws()  # the streams move on after the save

    loaded = moved_to(checkpoint, 'cuda')
    assert loaded['rng_states'][0]['torch'].device.type == 'cuda'
    hook.after_load_checkpoint(runner, loaded)
    assert draws() == expected
    assert len(restored_cuda) == 1
    assert torch.equal(restored_cuda[0], saved_cuda)

    # the resumable loops set the streams again after rebuilding the data
    # iterator
    draws()
    hook.reapply()
    assert draws() == expected
    assert len(restored_cuda) == 2
    assert torch.equal(restored_cuda[1], saved_cuda)


def test_gpu_loaded_optimizer_steps_go_back_to_the_host():
    """torch keeps a (non-fused, non-capturable) Adam's step count on the
    host and reads it with ``.item()`` every iteration; loaded onto the GPU
    it would cost a device-to-host sync per parameter per iteration for
    the rest of the run."""
    exp_avg = torch.full((3, ), 0.5)
    optimizer = dict(
        state={0: dict(step=torch.tensor(7.), exp_avg=exp_avg),
               1: dict(step=torch.tensor(7.), exp_avg=exp_avg)},
        param_groups=[dict(params=[0, 1], lr=0.1)])
    loaded = moved_to(dict(optimizer=optimizer), 'cuda')

    RNGStateHook().after_load_checkpoint(SimpleNamespace(), loaded)
    for state in loaded['optimizer']['state'].values():
        assert state['step'].device.type == 'cpu'
        assert float(state['step']) == 7.
        # the moments follow the parameters (optimizer.load_state_dict)
        assert state['exp_avg'].device.type == 'cuda'
