"""Hooks that make an interrupted run resume exactly."""
import random

import numpy as np
import torch
import torch.distributed as dist
from mmengine.hooks import Hook

from hrformer_mm.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save every rank's random-number-generator state in checkpoints and
    restore it on resume.

    mmengine restores weights, optimizer, schedulers and counters but not the
    RNG streams, so stochastic depth and dropout draw different masks after a
    resume than in an uninterrupted run.  With this hook (and a seeded run)
    the two runs are bit-identical.  Data augmentation runs in dataloader
    workers, which mmengine seeds deterministically by itself.
    """

    priority = 'VERY_LOW'

    @staticmethod
    def _state() -> dict:
        state = dict(python=random.getstate(), numpy=np.random.get_state(),
                     torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state()
        return state

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = self._state()
        if dist.is_available() and dist.is_initialized():
            states = [None] * dist.get_world_size()
            dist.all_gather_object(states, state)
        else:
            states = [state]
        checkpoint['rng_states'] = states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states = checkpoint.get('rng_states')
        if not states:
            return
        rank = dist.get_rank() if dist.is_available() and \
            dist.is_initialized() else 0
        if rank >= len(states):
            runner.logger.warning(
                'RNGStateHook: checkpoint has RNG states for '
                f'{len(states)} ranks, this is rank {rank}; not restored')
            return
        state = states[rank]
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state(state['cuda'])
