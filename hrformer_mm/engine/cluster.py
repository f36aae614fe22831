"""Training loops that survive clusters: preemption signals, exact
mid-epoch resume and stops that reach every rank.

``build_runner`` puts these loops in place of mmengine's
``EpochBasedTrainLoop`` / ``IterBasedTrainLoop`` (and the resumable
samplers in place of ``DefaultSampler`` / ``InfiniteSampler``), so every
config gets them; a config can also name them itself::

    train_cfg = dict(type='hrformer_mm.ResumableEpochBasedTrainLoop',
                     max_epochs=210, val_interval=10,
                     stop_signals=('SIGTERM', 'SIGUSR1'))

What they add to mmengine's loops (see docs/clusters.md):

* **Preemption.**  On one of ``stop_signals`` every rank finishes the
  iteration it is in; the ranks agree on stopping (a one-element
  all-reduce after each iteration), write one checkpoint
  ``preempt_iter_<N>.pth`` of the exact state (model, optimizer,
  schedulers, loss scaler, every rank's RNG, the sampler's seed and the
  position inside the epoch), point ``last_checkpoint`` at it and exit with
  status :data:`PREEMPTED_EXIT_CODE` (75, ``EX_TEMPFAIL``: "try again").
  ``--resume`` continues with the next iteration.
* **Exact mid-epoch resume.**  The samplers skip the samples already
  trained on instead of loading them again (mmengine's iteration loop
  reads and augments ``iter`` batches to skip them, which also moves the
  random streams); the RNG state of the checkpoint is re-applied after the
  data iterator is rebuilt.  Each sample's augmentation is drawn from a
  seed of its own, ``(seed, epoch, index)``
  (:mod:`hrformer_mm.datasets.sample_seeding`), so it does not depend on
  the dataloader worker that draws it.  With deterministic settings an
  interrupted and resumed run ends bit-identical to an uninterrupted one,
  with any number of workers, and ``num_workers`` does not change the
  result.
* **Stops that reach every rank.**  An exception raised by the iteration
  or its hooks on one rank (``NonFiniteLossError`` on a NaN loss, say) is
  shared through the same all-reduce, and every rank raises the same
  error type naming the rank it came from, in the same iteration, instead
  of waiting in the next collective until the process-group timeout.
"""
import atexit
import gc
import itertools
import logging
import os
import os.path as osp
import signal
import threading
from typing import Optional, Sequence

import torch
import torch.distributed as dist
from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.logging import print_log
from mmengine.runner import BaseLoop, EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from hrformer_mm.datasets.sample_seeding import (SampleKey,
                                                 SampleSeededDataset)
from hrformer_mm.registry import DATA_SAMPLERS, LOOPS

from .dist_utils import AGREED, agree, is_distributed
from .hooks import RNGStateHook

#: Exit status of a preempted run: sysexits' EX_TEMPFAIL, "temporary
#: failure, try again" (tools/slurm_train.sh requeues on it).
PREEMPTED_EXIT_CODE = 75
DEFAULT_STOP_SIGNALS = ('SIGTERM', 'SIGUSR1')
INNER_ITER_KEY = 'hrformer_inner_iter'
SAMPLER_SEED_KEY = 'hrformer_sampler_seed'


class TrainingPreempted(SystemExit):
    """Raised (on every rank) after the preemption checkpoint is written;
    as a ``SystemExit`` it ends ``tools/train.py`` with status 75."""

    def __init__(self, checkpoint: str, signame: str):
        super().__init__(PREEMPTED_EXIT_CODE)
        self.checkpoint, self.signame = checkpoint, signame

    def __str__(self):
        return (f'preempted by {self.signame}; state saved to '
                f'{self.checkpoint} (exit status {PREEMPTED_EXIT_CODE})')


# -- samplers ----------------------------------------------------------------


def _skip_of(sampler) -> int:
    return getattr(sampler, '_skip', 0)


@DATA_SAMPLERS.register_module()
class ResumableDefaultSampler(DefaultSampler):
    """``DefaultSampler`` that can start its next epoch ``skip(n)`` samples
    (of this rank) in, for a resume from inside an epoch.  ``len`` stays
    the full epoch's, so batch indices and end-of-epoch tests of the hooks
    keep their meaning.  With ``sample_keys`` it yields
    ``SampleKey(seed, epoch, index)`` instead of ``index``, for a
    :class:`~hrformer_mm.datasets.SampleSeededDataset`."""

    def __init__(self, dataset, shuffle: bool = True,
                 seed: Optional[int] = None, round_up: bool = True,
                 sample_keys: bool = False):
        super().__init__(dataset, shuffle=shuffle, seed=seed,
                         round_up=round_up)
        self.sample_keys = sample_keys

    def skip(self, n: int) -> None:
        self._skip = int(n)

    def __iter__(self):
        indices = list(super().__iter__())
        n, self._skip = _skip_of(self), 0
        if self.sample_keys:
            return iter([SampleKey(self.seed, self.epoch, i)
                         for i in indices[n:]])
        return iter(indices[n:])


@DATA_SAMPLERS.register_module()
class ResumableInfiniteSampler(InfiniteSampler):
    """``InfiniteSampler`` whose stream can be restarted ``skip(n)``
    samples (of this rank) in, without loading them.  With
    ``sample_keys`` it yields ``SampleKey(seed, pass, index)``, ``pass``
    counting the times the stream has gone through the data."""

    def __init__(self, dataset, shuffle: bool = True,
                 seed: Optional[int] = None, sample_keys: bool = False):
        self.sample_keys = sample_keys  # before the stream is set up
        super().__init__(dataset, shuffle=shuffle, seed=seed)

    def _infinite_indices(self):
        stream = super()._infinite_indices()
        if not self.sample_keys:
            yield from stream
            return
        for n, index in enumerate(stream):
            yield SampleKey(self.seed, n // self.size, index)

    def skip(self, n: int) -> None:
        self.indices = itertools.islice(self._indices_of_rank(), int(n),
                                        None)


RESUMABLE_SAMPLERS = {
    'DefaultSampler': 'hrformer_mm.ResumableDefaultSampler',
    'InfiniteSampler': 'hrformer_mm.ResumableInfiniteSampler',
}


def resumable_sampler_cfg(loader_cfg) -> None:
    """Swap mmengine's samplers in a dataloader config for the resumable
    ones (same arguments, same order of samples)."""
    sampler = loader_cfg.get('sampler') if hasattr(loader_cfg, 'get') \
        else None
    if not sampler:
        return
    kind = sampler.get('type')
    if isinstance(kind, str):
        name = kind.split('.')[-1]
        if name in RESUMABLE_SAMPLERS and kind in (name, f'mmengine.{name}'):
            sampler['type'] = RESUMABLE_SAMPLERS[name]


def sample_seeded_cfg(loader_cfg) -> bool:
    """Give every sample of a dataloader config its own augmentation seed
    (:mod:`hrformer_mm.datasets.sample_seeding`): the resumable sampler
    yields ``SampleKey`` s and the dataset is wrapped in
    ``SampleSeededDataset``.  Left alone where the sampler is another one,
    the config sets ``sample_keys=False``, or a batch sampler (which may
    read the indices itself) is configured.  Returns whether it applied."""
    sampler = loader_cfg.get('sampler') if hasattr(loader_cfg, 'get') \
        else None
    if not sampler or sampler.get('type') not in \
            RESUMABLE_SAMPLERS.values() or \
            loader_cfg.get('batch_sampler') is not None:
        return False
    if not sampler.setdefault('sample_keys', True):
        return False
    dataset = loader_cfg.get('dataset')
    if not isinstance(dataset, SampleSeededDataset) and not (
            isinstance(dataset, dict) and
            dataset.get('type') is SampleSeededDataset):
        loader_cfg['dataset'] = dict(type=SampleSeededDataset,
                                     dataset=dataset)
    return True


def own_worker_seeds(dataloader, seed: Optional[int]) -> None:
    """Give ``dataloader`` a generator of its own for the base seed it
    draws each time it starts an iterator (and its workers).  Otherwise
    that draw comes from torch's global stream, once per epoch with
    ``num_workers=0`` or non-persistent workers but once per run with
    persistent ones, and the training draws after it (drop path, dropout)
    then depend on ``num_workers`` and on whether the run was resumed at
    an epoch boundary."""
    if not isinstance(dataloader, DataLoader) or \
            dataloader.generator is not None:
        return
    generator = torch.Generator()
    generator.manual_seed(0 if seed is None else seed & ((1 << 63) - 1))
    dataloader.generator = generator


# -- dataloader workers ------------------------------------------------------


class WorkersLeaveStopSignals:
    """A dataloader ``worker_init_fn`` (wrapping the loader's own) that
    leaves the stop signals to the main process, for schedulers that send
    them to every process of the job (Slurm's ``--signal``, ``kill -TERM
    -<pgid>``).

    PyTorch's workers would die of them: SIGUSR1's default action ends the
    process, and the SIGTERM handler torch installs in each worker exits
    quietly when the main process sent the signal (that is how the
    DataLoader and multiprocessing shut workers down) but kills the worker
    when anyone else did, and the main process then fails with "DataLoader
    worker (pid N) is killed by signal" while it finishes its iteration.
    Here the workers ignore the stop signals, except SIGTERM from the main
    process, which still ends them at once: SIGTERM is blocked in the
    worker and a thread takes it with ``sigwaitinfo``, which names the
    sender (a Python signal handler is not told).  A plain ``SIG_IGN`` for
    SIGTERM would hang the exit instead: multiprocessing's exit handler
    terminates and then joins, without a timeout, every worker still
    alive."""

    def __init__(self, signals: Sequence[int], init_fn=None):
        self.signals = sorted({int(s) for s in signals})
        self.init_fn = init_fn
        self.main_pid = os.getpid()  # the process that builds the loader

    def __call__(self, worker_id: int) -> None:
        if signal.SIGTERM in self.signals:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            threading.Thread(target=self._take_sigterm, daemon=True,
                             name='stop_signal_filter').start()
        for sig in self.signals:
            if sig != signal.SIGTERM:
                signal.signal(sig, signal.SIG_IGN)
        if self.init_fn is not None:
            self.init_fn(worker_id)

    def _take_sigterm(self) -> None:
        managers = {self.main_pid, os.getppid()}
        while True:
            info = signal.sigwaitinfo({signal.SIGTERM})
            if info.si_pid in managers:
                os._exit(0)  # as torch's handler does for its parent


def leave_stop_signals_to_main(dataloader, signals: Sequence[int]) -> None:
    """Make the workers ``dataloader`` starts from now on ignore
    ``signals`` (see :class:`WorkersLeaveStopSignals`); nothing where it
    has no workers or no signals are to be left."""
    if not signals or not getattr(dataloader, 'num_workers', 0):
        return
    if isinstance(dataloader.worker_init_fn, WorkersLeaveStopSignals):
        return
    dataloader.worker_init_fn = WorkersLeaveStopSignals(
        signals, dataloader.worker_init_fn)


# -- agreement between ranks -----------------------------------------------


class _StopControl:
    """Signal handlers plus the per-iteration agreement of all ranks."""

    def __init__(self, signals: Sequence[str]):
        self.signals = []
        for name in signals or ():
            sig = getattr(signal, name if str(name).startswith('SIG')
                          else f'SIG{name}', None)
            if not isinstance(sig, signal.Signals):
                raise ValueError(f'stop_signals: unknown signal {name!r}')
            self.signals.append(sig)
        self.received: Optional[str] = None
        self._previous = {}

    def _handler(self, signum, frame) -> None:
        if self.received is None:
            self.received = signal.Signals(signum).name
            print_log(f'{self.received} received: finishing this iteration, '
                      'then saving a checkpoint and exiting',
                      logger='current', level=logging.WARNING)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set in the main thread
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._handler)

    def uninstall(self) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old)
        self._previous = {}

    def run(self, fn, *args, **kwargs):
        """Run one step on every rank and agree afterwards (see
        :func:`agree`): returns the signal name if any rank got a stop
        signal, raises on every rank if any rank raised."""
        error = None
        try:
            fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001  (re-raised by agree)
            if getattr(e, AGREED, False):
                raise  # every rank raises it already (a hook agreed)
            error = e
        if agree(error, self.received is not None):
            return self.received or "a peer rank's stop signal"
        return None

    def run_hooks(self, runner, stage: str, **kwargs):
        """``runner.call_hook(stage)`` with an agreement after each hook,
        so that a hook with collectives (SyncBuffersHook) never waits for a
        rank that failed in an earlier one; for the once-an-epoch stages."""
        signame = None
        for hook in runner.hooks:
            if hasattr(hook, stage):
                signame = self.run(getattr(hook, stage), runner,
                                   **kwargs) or signame
        return signame


# -- loops -------------------------------------------------------------------


def _rng_hook(runner):
    return next((h for h in runner.hooks if isinstance(h, RNGStateHook)),
                None)


def _sampler(dataloader):
    batch_sampler = getattr(dataloader, 'batch_sampler', None)
    return getattr(batch_sampler, 'sampler', None) or \
        getattr(dataloader, 'sampler', None)


class _ResumableMixin:
    """What the epoch- and iteration-based loops share."""

    def _prepare(self, runner, dataloader, stop_signals, exit_code):
        """Before mmengine's ``__init__``: the stop control, and the train
        dataloader built here (resumable sampler, workers that leave the
        stop signals to this process), because mmengine's iteration loop
        starts its workers in ``__init__``.  Returns the dataloader."""
        self._control = _StopControl(DEFAULT_STOP_SIGNALS if stop_signals
                                     is None else stop_signals)
        self.exit_code = exit_code
        if isinstance(dataloader, dict):
            resumable_sampler_cfg(dataloader)
            sample_seeded_cfg(dataloader)
        BaseLoop.__init__(self, runner, dataloader)  # builds it, no more
        leave_stop_signals_to_main(self.dataloader, self._control.signals)
        own_worker_seeds(self.dataloader,
                         getattr(_sampler(self.dataloader), 'seed', None))
        return self.dataloader

    def _setup(self):
        """After mmengine's ``__init__``."""
        sampler = _sampler(self.dataloader)
        if sampler is not None and hasattr(sampler, 'seed'):
            self.runner.message_hub.update_info(SAMPLER_SEED_KEY,
                                                sampler.seed)

    def _install(self) -> None:
        """At the start of ``run``: the signal handlers, and the validation
        loader's workers (built by now, not started) told to leave the stop
        signals to this process as well."""
        val_loop = self.runner.val_loop
        if val_loop is not None:
            val_loader = getattr(val_loop, 'dataloader', None)
            leave_stop_signals_to_main(val_loader, self._control.signals)
            own_worker_seeds(val_loader,
                             getattr(_sampler(val_loader), 'seed', None))
        self._control.install()

    def _restore_sampler_seed(self) -> None:
        sampler = _sampler(self.dataloader)
        seed = self.runner.message_hub.get_info(SAMPLER_SEED_KEY)
        if sampler is not None and seed is not None and \
                getattr(sampler, 'seed', seed) != seed:
            sampler.seed = seed
            if isinstance(sampler, InfiniteSampler):
                sampler.indices = sampler._indices_of_rank()
        if sampler is not None and hasattr(sampler, 'seed'):
            self.runner.message_hub.update_info(SAMPLER_SEED_KEY,
                                                sampler.seed)

    def _skip(self, batches: int) -> bool:
        """Make the sampler start ``batches`` batches in; False where it
        cannot (then the loop falls back to reading them)."""
        sampler = _sampler(self.dataloader)
        if not hasattr(sampler, 'skip'):
            print_log(f'{type(sampler).__name__} cannot skip samples: '
                      'the resumed epoch reads the trained batches again to '
                      'skip them (not bit-exact; use DefaultSampler or '
                      'InfiniteSampler)', logger='current',
                      level=logging.WARNING)
            return False
        sampler.skip(batches * self.dataloader.batch_size)
        return True

    def _reapply_rng(self) -> None:
        hook = _rng_hook(self.runner)
        if hook is not None:
            hook.reapply()

    def _stop(self, signame: str) -> None:
        """Write the preemption checkpoint on every rank and exit."""
        runner = self.runner
        filename = f'preempt_iter_{self._iter}.pth'
        hook = _rng_hook(runner)
        if hook is not None and is_distributed():
            hook.gather(runner)  # all ranks; saving is rank 0 only
        runner.logger.warning(
            f'stopping at iteration {self._iter} (epoch {self._epoch + 1}) '
            f'on {signame}: saving {filename}')
        runner.save_checkpoint(
            runner.work_dir, filename, save_optimizer=True,
            save_param_scheduler=True,
            meta=dict(epoch=self._epoch, iter=self._iter, preempted=signame))
        path = osp.join(runner.work_dir, filename)
        if runner.rank == 0:
            with open(osp.join(runner.work_dir, 'last_checkpoint'), 'w') as f:
                f.write(path)
        if is_distributed():
            dist.barrier()
        self._control.uninstall()
        # The exit that follows: without this the interpreter runs its
        # cyclic garbage collector over the whole heap (model, optimizer
        # state, the mm* registries) while it tears its modules down, the
        # larger part of the time from the signal to the exit after the
        # checkpoint (docs/clusters.md).  Objects still alive at exit are
        # freed by reference counting or not at all; Python promises no
        # __del__ for them either way.
        atexit.register(gc.freeze)
        runner.logger.warning(f'preempted: resume with --resume (exit status '
                              f'{self.exit_code})')
        exc = TrainingPreempted(path, signame)
        exc.code = self.exit_code
        raise exc


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(_ResumableMixin, EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that stops on a signal with an exact
    checkpoint, resumes inside an epoch, and stops every rank when one
    fails.  ``stop_signals``: names of the signals that request a stop
    (default SIGTERM and SIGUSR1; ``[]`` for none); ``exit_code``: the
    exit status after the preemption checkpoint (75)."""

    def __init__(self, runner, dataloader, max_epochs: int,
                 val_begin: int = 1, val_interval: int = 1,
                 dynamic_intervals=None, stop_signals=None,
                 exit_code: int = PREEMPTED_EXIT_CODE):
        dataloader = self._prepare(runner, dataloader, stop_signals,
                                   exit_code)
        super().__init__(runner, dataloader, max_epochs, val_begin,
                         val_interval, dynamic_intervals)
        self._setup()

    def run(self) -> torch.nn.Module:
        self._install()
        try:
            return super().run()
        finally:
            self._control.uninstall()

    def run_epoch(self) -> None:
        hub = self.runner.message_hub
        start = int(hub.get_info(INNER_ITER_KEY) or 0)
        self._restore_sampler_seed()
        # a stop signal seen here is acted on after the first iteration
        self._control.run_hooks(self.runner, 'before_train_epoch')
        self.runner.model.train()
        if start and not self._skip(start):
            start = 0  # fall back: read the batches (mmengine's way)
        sampler = _sampler(self.dataloader)
        if hasattr(sampler, 'set_epoch'):
            # as DistSamplerSeedHook does; the epoch keys the augmentation
            # seeds, so it must advance even in a config without that hook
            sampler.set_epoch(self._epoch)
        loader = iter(self.dataloader)
        if start:
            print_log(f'resuming epoch {self._epoch + 1} at batch '
                      f'{start + 1}', logger='current')
            self._reapply_rng()
        for idx, data_batch in enumerate(loader, start):
            self.run_iter(idx, data_batch)
        hub.update_info(INNER_ITER_KEY, 0)
        signame = self._control.run_hooks(self.runner, 'after_train_epoch')
        self._epoch += 1
        if signame:  # the next run starts with the next epoch
            self._stop(signame)

    def run_iter(self, idx, data_batch) -> None:
        # Exceptions before and in the forward / backward pass are not
        # agreed on: the peers may be inside DDP's all-reduce, so the
        # failing process just exits (torchrun / srun then end the rest).
        runner = self.runner
        runner.call_hook('before_train_iter', batch_idx=idx,
                         data_batch=data_batch)
        outputs = runner.model.train_step(
            data_batch, optim_wrapper=runner.optim_wrapper)
        # before the hooks: an iteration checkpoint they write records it
        runner.message_hub.update_info(INNER_ITER_KEY, idx + 1)
        signame = self._control.run(
            runner.call_hook, 'after_train_iter', batch_idx=idx,
            data_batch=data_batch, outputs=outputs)
        self._iter += 1
        if signame:
            self._stop(signame)


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(_ResumableMixin, IterBasedTrainLoop):
    """``IterBasedTrainLoop`` with the same preemption, exact resume and
    all-rank stops as :class:`ResumableEpochBasedTrainLoop`.  A resume
    restarts the sampler ``iter * batch_size`` samples in instead of
    loading and augmenting that many batches."""

    def __init__(self, runner, dataloader, max_iters: int,
                 val_begin: int = 1, val_interval: int = 1000,
                 dynamic_intervals=None, stop_signals=None,
                 exit_code: int = PREEMPTED_EXIT_CODE):
        dataloader = self._prepare(runner, dataloader, stop_signals,
                                   exit_code)
        super().__init__(runner, dataloader, max_iters, val_begin,
                         val_interval, dynamic_intervals)
        self._setup()

    def run(self) -> torch.nn.Module:
        self._install()
        try:
            return self._run()
        finally:
            self._control.uninstall()

    def _run(self) -> torch.nn.Module:
        runner = self.runner
        runner.call_hook('before_train')
        self._control.run_hooks(runner, 'before_train_epoch')
        self._restore_sampler_seed()
        if self._iter > 0:
            if self._skip(self._iter):
                print_log(f'resuming at iteration {self._iter + 1}: the '
                          'sampler skips the trained samples',
                          logger='current')
                self.dataloader_iterator = _InfiniteDataloaderIterator(
                    self.dataloader)
                self._reapply_rng()
            else:
                for _ in range(self._iter):
                    next(self.dataloader_iterator)
        while self._iter < self._max_iters and not self.stop_training:
            runner.model.train()
            data_batch = next(self.dataloader_iterator)
            signame = self._iteration(data_batch)
            self._iter += 1
            self._decide_current_val_interval()
            if (runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                runner.val_loop.run()
            if signame:
                self._stop(signame)
        self._control.run_hooks(runner, 'after_train_epoch')
        runner.call_hook('after_train')
        return runner.model

    def _iteration(self, data_batch):
        """One iteration; the stop signal's name if the ranks agreed to
        stop (exceptions as in the epoch-based loop's ``run_iter``)."""
        runner = self.runner
        runner.call_hook('before_train_iter', batch_idx=self._iter,
                         data_batch=data_batch)
        outputs = runner.model.train_step(
            data_batch, optim_wrapper=runner.optim_wrapper)
        return self._control.run(
            runner.call_hook, 'after_train_iter', batch_idx=self._iter,
            data_batch=data_batch, outputs=outputs)


RESUMABLE_LOOPS = {
    'EpochBasedTrainLoop': 'hrformer_mm.ResumableEpochBasedTrainLoop',
    'IterBasedTrainLoop': 'hrformer_mm.ResumableIterBasedTrainLoop',
}


def use_resumable_loops(cfg) -> None:
    """Point ``cfg.train_cfg`` at the resumable loops where it names
    mmengine's own (or gives ``by_epoch`` only); custom loops are left
    alone.  ``cfg.stop_signals`` (optional) is passed on."""
    train_cfg = cfg.get('train_cfg')
    if not train_cfg:
        return
    kind = train_cfg.get('type')
    if kind is None:
        by_epoch = train_cfg.pop('by_epoch', None)
        if by_epoch is None and 'max_epochs' not in train_cfg and \
                'max_iters' not in train_cfg:
            return
        kind = 'EpochBasedTrainLoop' if by_epoch or (
            by_epoch is None and 'max_epochs' in train_cfg) else \
            'IterBasedTrainLoop'
    name = str(kind).split('.')[-1]
    if kind not in (name, f'mmengine.{name}') or \
            name not in RESUMABLE_LOOPS:
        return
    train_cfg['type'] = RESUMABLE_LOOPS[name]
    if cfg.get('stop_signals') is not None:
        train_cfg.setdefault('stop_signals', list(cfg.stop_signals))
    if os.environ.get('HRFORMER_STOP_SIGNALS') is not None:
        train_cfg['stop_signals'] = [
            s for s in os.environ['HRFORMER_STOP_SIGNALS'].split(',') if s]
