"""Hooks that make an interrupted run resume exactly."""
import math
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


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


def last_checkpoint(work_dir: str):
    """The path mmengine's CheckpointHook last wrote, or None."""
    import os.path as osp
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker) as f:
        return f.read().strip() or None


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training at the first iteration whose loss is NaN or infinite.

    Without it the optimizer writes NaN into every weight and training goes
    on until the end, saving useless checkpoints (and a logged ``nan`` is
    easy to miss).  Runs before the checkpoint hook, so the last checkpoint
    on disk is still a good one; the error names it.
    """

    # VERY_HIGH, as mmengine's RuntimeInfoHook, which is registered first
    # and so runs first: it has copied each loss to the host already
    priority = 'VERY_HIGH'

    @staticmethod
    def _host_value(runner, name: str, value) -> float:
        """The loss as a Python float: the copy RuntimeInfoHook made this
        iteration when there is one (no second device synchronisation),
        else the value itself."""
        hub = getattr(runner, 'message_hub', None)
        scalars = hub.log_scalars if hub is not None else {}
        key = f'train/{name}'
        if key in scalars and isinstance(value, torch.Tensor) and \
                value.numel() == 1:
            return float(scalars[key].current())
        if isinstance(value, torch.Tensor):  # non-finite entries stay so
            return float(value.detach().float().sum())
        return float(value)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not outputs:
            return
        bad = {}
        for name, value in outputs.items():
            if 'loss' in name:
                v = self._host_value(runner, name, value)
                if not math.isfinite(v):
                    bad[name] = v
        if not bad:
            return
        ckpt = last_checkpoint(runner.work_dir)
        raise NonFiniteLossError(
            f'non-finite loss at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}): ' +
            ', '.join(f'{k}={v}' for k, v in bad.items()) +
            '. Training stopped; the last good checkpoint is ' +
            (f'{ckpt} (resume with --resume {ckpt})' if ckpt else
             'none (nothing saved yet)') +
            '. Usual causes: a learning rate too high for the batch size, '
            'no gradient clipping (optim_wrapper.clip_grad), fp16 overflow, '
            'or broken annotations.')


@HOOKS.register_module()
class DatasetModelCheckHook(Hook):
    """Check each dataset a run builds against the head before its loop
    starts: keypoint count (pose) and class count (segmentation)."""

    priority = 'VERY_HIGH'

    def _check(self, runner, loader, key: str) -> None:
        from .checks import check_dataset_matches_head
        dataset = getattr(loader, 'dataset', None)
        metainfo = getattr(dataset, 'metainfo', None)
        if not metainfo:
            return
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        check_dataset_matches_head(model, metainfo, key)

    def before_train(self, runner) -> None:
        self._check(runner, runner.train_dataloader,
                    'train_dataloader.dataset')

    def before_val(self, runner) -> None:
        self._check(runner, runner.val_dataloader, 'val_dataloader.dataset')

    def before_test(self, runner) -> None:
        self._check(runner, runner.test_dataloader, 'test_dataloader.dataset')


@HOOKS.register_module()
class SkippedImagesHook(Hook):
    """Log how many undecodable images were skipped (``bad_images='skip'``),
    after every training epoch and at the end of training."""

    priority = 'LOW'

    def _log(self, runner) -> None:
        from hrformer_mm.datasets.transforms import skipped_images
        count = skipped_images()
        if count:
            runner.logger.warning(
                f'{count} undecodable image(s) skipped so far (bad_images='
                "'skip'); see the warnings above for their names")
        runner.message_hub.update_info('skipped_images', count)

    def after_train_epoch(self, runner) -> None:
        self._log(runner)

    def after_train(self, runner) -> None:
        self._log(runner)
