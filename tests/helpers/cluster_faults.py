"""Faults for the cluster tests (tests/test_engine/test_cluster_*.py), injected from a
config: ``custom_imports = dict(imports=['cluster_faults'])`` with
tests/helpers on PYTHONPATH, then ``custom_hooks`` naming
``hrformer_mm.FaultInjectionHook``."""
import math
import os
import signal

import torch.distributed as dist
from mmengine.hooks import Hook

from hrformer_mm.registry import HOOKS


@HOOKS.register_module(force=True)
class FaultInjectionHook(Hook):
    """At the end of training iteration ``at_iter`` (1-based, counted over
    the whole run) on rank ``rank``: ``action='signal'`` sends ``signame``
    to this process (or to its parent, the torchrun agent, with
    ``target='parent'``); ``'nan'`` makes the loss NaN; ``'raise'`` raises
    a RuntimeError; ``'exit'`` ends the process at once (a lost worker).
    ``once_file``: act only if that file does not exist yet, and create it
    (so a restarted run does not fail again)."""

    priority = 'HIGHEST'  # before RuntimeInfoHook copies the loss

    def __init__(self, at_iter, rank=0, action='signal', signame='SIGTERM',
                 target='self', once_file=None):
        self.at_iter, self.rank, self.action = at_iter, rank, action
        self.signame, self.target, self.once_file = signame, target, once_file

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        rank = dist.get_rank() if dist.is_initialized() else 0
        if runner.iter + 1 != self.at_iter or rank != self.rank:
            return
        if self.once_file:
            if os.path.exists(self.once_file):
                return
            open(self.once_file, 'w').close()
        if self.action == 'signal':
            pid = os.getppid() if self.target == 'parent' else os.getpid()
            os.kill(pid, getattr(signal, self.signame))
        elif self.action == 'nan':
            for k in outputs:
                if 'loss' in k:
                    outputs[k] = outputs[k] * math.nan
        elif self.action == 'raise':
            raise RuntimeError(f'injected failure on rank {rank}')
        elif self.action == 'exit':
            os._exit(9)
