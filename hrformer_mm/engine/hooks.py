"""Hooks that make an interrupted run resume exactly."""
import math
import random

import numpy as np
import torch
import torch.distributed as dist
from mmengine.hooks import Hook

from hrformer_mm.registry import HOOKS

from .dist_utils import agree, is_distributed


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save every rank's random-number-generator state in checkpoints and
    restore it on resume.

    mmengine restores weights, optimizer, schedulers and counters but not the
    RNG streams, so stochastic depth and dropout draw different masks after a
    resume than in an uninterrupted run.  With this hook (and a seeded run)
    the two runs are bit-identical.  Data augmentation runs in dataloader
    workers, which mmengine seeds deterministically by itself.

    On a GPU, ``Runner.resume`` loads the whole checkpoint onto it; what the
    host consumes goes back to the host here: the RNG states and the
    optimizers' step counts (:func:`optimizer_steps_to_host`).
    """

    # before CheckpointHook (VERY_LOW): the gather below runs on every
    # rank, while Runner.save_checkpoint runs on rank 0 only
    priority = 'LOW'

    @staticmethod
    def _state() -> dict:
        state = dict(python=random.getstate(), numpy=np.random.get_state(),
                     torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state()
        return state

    @staticmethod
    def _buffers(runner) -> dict:
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        names = {n for n, _ in model.named_buffers()}
        return {k: v.detach().cpu() for k, v in model.state_dict().items()
                if k in names}

    def gather(self, runner) -> None:
        """Collect every rank's RNG state and buffers (a collective: call it
        on all ranks before a checkpoint is saved; saving itself is rank
        0's only).  The buffers matter where each rank keeps its own BN
        statistics between synchronisations (BN on CPU / gloo, or
        ``broadcast_buffers=False``)."""
        states = [None] * dist.get_world_size()
        dist.all_gather_object(states, (self._state(), self._buffers(runner)))
        self._gathered = states

    @staticmethod
    def _checkpoint_due(runner) -> bool:
        """Whether a CheckpointHook saves after this iteration (the same
        test as its ``after_train_iter``)."""
        from mmengine.hooks import CheckpointHook
        for hook in runner.hooks:
            if not isinstance(hook, CheckpointHook) or hook.by_epoch:
                continue
            try:
                if hook.every_n_train_iters(runner, hook.interval,
                                            hook.save_begin) or (
                        hook.save_last and hook.is_last_train_iter(runner)):
                    return True
            except (AttributeError, TypeError):
                return True
        return False

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self._gathered = None  # states of an earlier point are stale

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if is_distributed() and self._checkpoint_due(runner):
            agree()  # no rank failed in an earlier hook: gather safely
            self.gather(runner)

    def after_train_epoch(self, runner) -> None:
        if is_distributed():
            self.gather(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        # CheckpointHook's save_best saves the best and the latest
        # checkpoint again here (on rank 0)
        if is_distributed():
            self.gather(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # kept until the next iteration: save_best writes two files
        states = getattr(self, '_gathered', None)
        if states is None:
            if is_distributed():
                runner.logger.warning(
                    'RNGStateHook: checkpoint saved outside the gathering '
                    "points; only rank 0's RNG state is in it")
            states = [self._state()]
        else:
            checkpoint['rank_buffers'] = [b for _, b in states]
            states = [s for s, _ in states]
        checkpoint['rng_states'] = states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        optimizer_steps_to_host(checkpoint.get('optimizer'))
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
        self._loaded = states[rank]
        self._apply(self._loaded)
        # this rank's own buffers (called before the weights are loaded)
        buffers = checkpoint.get('rank_buffers')
        if buffers and rank < len(buffers) and 'state_dict' in checkpoint:
            checkpoint['state_dict'].update(buffers[rank])

    def reapply(self) -> None:
        """Set the RNG streams to the loaded checkpoint's again: the
        resumable loops call it after rebuilding the data iterator (which
        draws a seed) when they resume inside an epoch."""
        if getattr(self, '_loaded', None) is not None:
            self._apply(self._loaded)
            self._loaded = None

    @staticmethod
    def _apply(state: dict) -> None:
        # Runner.resume loads checkpoints onto the GPU where there is one
        # (map_location='cuda'); the generators take CPU byte tensors only
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'].to('cpu', torch.uint8))
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state(state['cuda'].to('cpu', torch.uint8))


def optimizer_steps_to_host(optimizer_state) -> None:
    """Put the step counts of an optimizer state dict (or of a dict of
    them, as ``OptimWrapperDict`` saves) on the host, in place.

    A non-fused, non-capturable Adam / AdamW keeps its step count on the
    CPU and reads it with ``.item()`` in every step; torch's
    ``load_state_dict`` leaves the count on the device it was loaded onto,
    so after a resume onto the GPU each parameter would cost a
    device-to-host synchronisation per iteration.  Fused and capturable
    optimizers move the count to the parameter's device themselves."""
    if not isinstance(optimizer_state, dict):
        return
    if 'state' in optimizer_state and 'param_groups' in optimizer_state:
        for state in optimizer_state['state'].values():
            step = state.get('step') if isinstance(state, dict) else None
            if isinstance(step, torch.Tensor) and step.device.type != 'cpu':
                state['step'] = step.cpu()
        return
    for value in optimizer_state.values():
        optimizer_steps_to_host(value)


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
        bad = {}
        for name, value in (outputs or {}).items():
            if 'loss' in name:
                v = self._host_value(runner, name, value)
                if not math.isfinite(v):
                    bad[name] = v
        # Every rank agrees here each iteration: a NaN on one rank stops
        # them all at this point, before any further collective, instead of
        # leaving the others waiting for it until the process-group
        # timeout.  Peers raise the same error naming the rank.
        agree(self._error(runner, bad) if bad else None)

    @staticmethod
    def _error(runner, bad: dict) -> 'NonFiniteLossError':
        ckpt = last_checkpoint(runner.work_dir)
        where = f' on rank {dist.get_rank()}' if dist.is_available() and \
            dist.is_initialized() else ''
        return NonFiniteLossError(
            f'non-finite loss at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}){where}: ' +
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
