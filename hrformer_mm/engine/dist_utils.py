"""Cross-rank helpers shared by the resumable loops (``cluster.py``) and
the hooks (``hooks.py``): whether a process group spans several ranks, and
:func:`agree`, the one point where all ranks compare notes.

A leaf: it imports nothing else of the engine, so the loops and the hooks
both build on it without importing each other.
"""
import logging
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.logging import print_log

__all__ = ['AGREED', 'PeerRankError', 'agree', 'is_distributed']

#: set on an error that every rank raises already (it went through
#: :func:`agree`), so that an outer agreement does not share it again
AGREED = '_hrformer_agreed'


class PeerRankError(RuntimeError):
    """Another rank failed; raised where the failure's own type cannot be
    rebuilt from its message."""


def is_distributed() -> bool:
    """Whether a process group with more than one rank is initialised."""
    return dist.is_available() and dist.is_initialized() and \
        dist.get_world_size() > 1


def _flag_device():
    if dist.get_backend() == 'nccl':
        return torch.device('cuda', torch.cuda.current_device())
    return torch.device('cpu')


def _rebuild_error(kind, message: str, rank: int) -> BaseException:
    text = f'[raised on rank {rank}] {message}'
    if isinstance(kind, type) and issubclass(kind, Exception):
        try:
            return kind(text)
        except Exception:  # a constructor that wants other arguments
            pass
    return PeerRankError(f'{getattr(kind, "__name__", kind)}: {text}')


def agree(error: Optional[BaseException] = None, stop: bool = False) -> bool:
    """The point where all ranks compare notes: a collective that every
    rank must reach the same number of times (the resumable loops call it
    after each iteration's hooks, NonFiniteLossHook and RNGStateHook before
    their own collectives).  If any rank passes an ``error``, every rank
    raises: the failing one its own error, the others the same type with
    the failing rank named (:class:`PeerRankError` where the type cannot be
    rebuilt).  Returns whether any rank asked to ``stop``.  Without a
    process group it raises ``error`` or returns ``stop``."""
    if not is_distributed():
        if error is not None:
            raise error
        return stop
    flags = torch.tensor([float(error is not None), float(stop)],
                         device=_flag_device())
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    if flags[0] > 0:
        reports = [None] * dist.get_world_size()
        dist.all_gather_object(
            reports, None if error is None else (type(error), str(error)))
        if error is None:
            rank, (kind, message) = next(
                (r, rep) for r, rep in enumerate(reports) if rep)
            print_log(f'rank {rank} failed ({kind.__name__}); stopping this '
                      'rank too', logger='current', level=logging.ERROR)
            error = _rebuild_error(kind, message, rank)
        setattr(error, AGREED, True)
        raise error
    return bool(flags[1] > 0)
