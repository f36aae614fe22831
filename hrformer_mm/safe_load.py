"""Checkpoint loading that cannot run code.

A ``.pth`` file is a pickle, and unpickling can call any function, so a
downloaded checkpoint could run code on load.  PyTorch's ``weights_only``
unpickler only rebuilds tensors and plain containers, plus the types a
program explicitly allows.  :func:`load_checkpoint_file` uses it with the
allow-list below: what mmengine's Runner writes (message-hub history
buffers, numpy arrays and scalars in logs, RNG states and dataset metadata)
and what public mmpose / mmseg / HRFormer releases hold.  Anything else is
refused with :class:`UntrustedCheckpointError`, naming the types and the
two ways to accept a file the user trusts:

* ``HRFORMER_TRUST_CHECKPOINTS=/path/a.pth`` (``os.pathsep``-separated
  paths or URLs; ``1`` trusts every file): full unpickling for those files;
  the tools' ``--trust-checkpoint`` flag sets it to ``1``;
* ``HRFORMER_SAFE_GLOBALS=pkg.module.Name,...``: add those types to the
  allow-list and keep the safe unpickler.
"""
import functools
import logging
import os
import os.path as osp
import pickle
import re
from typing import Any, Callable, List, Set, Tuple, Union

import numpy as np
import torch

TRUST_ENV = 'HRFORMER_TRUST_CHECKPOINTS'
EXTRA_GLOBALS_ENV = 'HRFORMER_SAFE_GLOBALS'

__all__ = [
    'CheckpointError', 'CorruptCheckpointError', 'UntrustedCheckpointError',
    'TRUST_ENV', 'EXTRA_GLOBALS_ENV', 'allowed_globals',
    'load_checkpoint_file', 'unsafe_globals_in'
]


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be used."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated or not a PyTorch checkpoint."""


class UntrustedCheckpointError(CheckpointError, pickle.UnpicklingError):
    """The checkpoint holds objects outside the safe allow-list; loading it
    would need full unpickling, which can run arbitrary code."""

    def __init__(self, filename: str, names: List[str], detail: str = ''):
        self.filename = filename
        self.names = names
        listed = ', '.join(names) if names else 'objects'
        super().__init__(
            f'refusing to load checkpoint {filename}: it holds {listed}, '
            'which is not on the allow-list of types that mmengine / mmpose '
            '/ mmseg checkpoints contain. Unpickling it fully could run '
            'arbitrary code. If you trust this file, load it with '
            f'{TRUST_ENV}={filename} (or pass --trust-checkpoint to the '
            'tools); if these are plain data types, allow only them with '
            f'{EXTRA_GLOBALS_ENV}={",".join(names) or "module.Name"}.' +
            (f'\n  ({detail})' if detail else ''))


try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1
    from numpy.core import multiarray as _multiarray

# mmengine's HistoryBuffer keeps its statistics functions in
# ``_statistics_methods``; pickle protocol 2 (torch.save's) writes a method
# like ``HistoryBuffer.min`` as ``getattr(HistoryBuffer, 'min')``.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'mean', 'current')


def _history_buffer_getattr(obj: Any, name: str, *default) -> Any:
    """``builtins.getattr`` as the safe unpickler sees it: only the look-ups
    mmengine's history buffers need.  A free ``getattr`` could reach any
    attribute of any allowed object (``__globals__``, properties with side
    effects)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if isinstance(obj, type) and issubclass(obj, HistoryBuffer) and \
            name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'GLOBAL builtins.getattr is allowed only for HistoryBuffer methods, '
        f'not getattr({getattr(obj, "__name__", type(obj).__name__)}, '
        f'{name!r})')


def _empty_bytes(*args: Any) -> bytes:
    """``builtins.bytes`` as the allow-list has it: only the calls that
    protocol-2 pickles of empty arrays make (``bytes()``, or an empty
    str / bytes with an encoding), never ``bytes(n)`` of a size the file
    chooses."""
    if not args or (len(args) == 2 and args[0] in ('', b'') and
                    isinstance(args[1], str)):
        return b''
    raise pickle.UnpicklingError(
        'GLOBAL builtins.bytes is allowed only for the empty raw data of '
        'an empty array, not bytes() of ' +
        ', '.join(type(a).__name__ for a in args))


def _builtin_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    from mmengine.config import ConfigDict
    from mmengine.logging.history_buffer import HistoryBuffer
    names: List[Union[Callable, Tuple[Callable, str]]] = [
        # numpy arrays, dtypes and scalars (logs, RNG states, metainfo);
        # rebuilding them runs numpy's own constructors on raw bytes.
        np.ndarray,
        np.dtype,
        (_multiarray._reconstruct, 'numpy._core.multiarray._reconstruct'),
        (_multiarray.scalar, 'numpy._core.multiarray.scalar'),
        # the same functions in files written under numpy 1
        (_multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (_multiarray.scalar, 'numpy.core.multiarray.scalar'),
        # an empty array's raw data: torch.save's pickle protocol 2 writes
        # b'' as bytes() (the face datasets' metainfo has sigmas=[])
        (_empty_bytes, 'builtins.bytes'),
        # mmengine's message hub (loss / lr history) and configs in meta
        HistoryBuffer,
        ConfigDict,
        (_history_buffer_getattr, 'builtins.getattr'),
    ]
    # np.dtype('f4') is an instance of np.dtypes.Float32DType, which the
    # unpickler's BUILD step checks against the allow-list.
    names += [t for t in vars(getattr(np, 'dtypes', object)).values()
              if isinstance(t, type) and issubclass(t, np.dtype)]
    return names


def _import_global(name: str) -> Any:
    import importlib
    module, _, attr = name.rpartition('.')
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise ValueError(f'{EXTRA_GLOBALS_ENV}: cannot import {name!r} '
                         f'({type(e).__name__}: {e})') from e


def allowed_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The allow-list: built-in entries plus ``HRFORMER_SAFE_GLOBALS``."""
    value = os.environ.get(EXTRA_GLOBALS_ENV, '')
    extra = [n.strip() for n in value.split(',') if n.strip()]
    return _builtin_globals() + [(_import_global(n), n) for n in extra]


def _allowed_names() -> Set[str]:
    names = set()
    for g in allowed_globals():
        if isinstance(g, tuple):
            names.add(g[1])
        else:
            names.add(f'{g.__module__}.{g.__qualname__}')
    return names


def _is_trusted(filename: str) -> bool:
    value = os.environ.get(TRUST_ENV, '').strip()
    if value.lower() in ('1', 'true', 'yes', 'all'):
        return True
    if not value:
        return False
    wanted = osp.realpath(osp.expanduser(filename)) \
        if '://' not in filename else filename
    for entry in value.split(os.pathsep):
        entry = entry.strip()
        if not entry:
            continue
        if '://' not in entry:
            entry = osp.realpath(osp.expanduser(entry))
        if entry == wanted:
            return True
    return False


def unsafe_globals_in(filename: str) -> List[str]:
    """Globals in a (zip-format) checkpoint that the allow-list lacks, found
    by reading its pickle opcodes without executing any."""
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # noqa: BLE001 - legacy format, not a zip, ...
        return []
    return sorted(set(found) - _allowed_names())


@functools.lru_cache(maxsize=None)
def _warn_trusted(filename: str) -> None:
    from mmengine.logging import print_log
    print_log(f'{TRUST_ENV}: loading {filename} with full unpickling '
              '(it can run code; do this only for files you trust)',
              logger='current', level=logging.WARNING)


_GLOBAL_IN_MESSAGE = re.compile(r'GLOBAL (\S+) (?:was not|whose module)')


def load_checkpoint_file(filename: str, map_location=None) -> Any:
    """``torch.load`` a local file with the safe unpickler and the
    allow-list; full unpickling only for files the user marked trusted.

    Raises :class:`UntrustedCheckpointError` (objects outside the
    allow-list), :class:`CorruptCheckpointError` (truncated / not a
    checkpoint) or ``FileNotFoundError``.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} not found')
    if _is_trusted(filename):
        _warn_trusted(filename)
        try:
            return torch.load(filename, map_location=map_location,
                              weights_only=False)
        except (RuntimeError, EOFError, pickle.UnpicklingError) as e:
            raise CorruptCheckpointError(
                f'checkpoint {filename} is corrupt or not a PyTorch '
                f'checkpoint ({type(e).__name__}: {e})') from e
    try:
        with torch.serialization.safe_globals(allowed_globals()):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as e:
        names = unsafe_globals_in(filename)
        if not names:
            names = sorted(set(_GLOBAL_IN_MESSAGE.findall(str(e))) -
                           _allowed_names())
        message = _first_reason(str(e))
        if names or _looks_like_refusal(str(e)):
            raise UntrustedCheckpointError(filename, names, message) from None
        raise CorruptCheckpointError(
            f'checkpoint {filename} is corrupt or not a PyTorch checkpoint '
            f'(UnpicklingError: {message})') from e
    except (RuntimeError, EOFError, ValueError) as e:
        raise CorruptCheckpointError(
            f'checkpoint {filename} is corrupt or not a PyTorch checkpoint '
            f'({type(e).__name__}: {e})') from e


def _first_reason(message: str) -> str:
    """What failed, from torch's long weights_only message."""
    found = re.search(r'WeightsUnpickler error:\s*(.*?)\s*(?:Check the '
                      r'documentation|$)', message, re.S)
    reason = found.group(1) if found else message.strip()
    reason = reason.split(' Please use `torch.serialization')[0]
    return ' '.join(reason.split())


def _looks_like_refusal(message: str) -> bool:
    return any(k in message for k in (
        'Unsupported global', 'Can only create new object', 'Can only build',
        'Trying to call reduce', 'is allowed only for', 'is blocked'))


def _hub_cached_file(url: str, model_dir=None, progress: bool = True,
                     file_name=None) -> str:
    """Download ``url`` into torch hub's checkpoint cache (the place
    mmengine's ``load_url`` uses) unless it is already there."""
    from urllib.parse import urlparse
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(model_dir,
                      file_name or osp.basename(urlparse(url).path))
    if not osp.exists(cached):
        torch.hub.download_url_to_file(url, cached, None, progress=progress)
    return cached


def load_checkpoint_url(url: str, map_location=None, model_dir=None,
                        progress: bool = False) -> Any:
    """mmengine's http(s) loader, with the download loaded safely.  A URL
    listed in ``HRFORMER_TRUST_CHECKPOINTS`` marks its cached file trusted."""
    from mmengine.dist import get_dist_info
    rank, world_size = get_dist_info()

    def fetch():
        cached = _hub_cached_file(url, model_dir, progress)
        if _is_trusted(url) and not _is_trusted(cached):
            os.environ[TRUST_ENV] = os.pathsep.join(
                filter(None, [os.environ.get(TRUST_ENV), cached]))
        return load_checkpoint_file(cached, map_location)

    if rank == 0:
        checkpoint = fetch()
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = fetch()
    return checkpoint

