"""Where the checkpoints a config names come from, and the local file each
is read from.

A config names checkpoints in three places: a ``type='Pretrained'``
initialiser anywhere in the model tree (``model.backbone.init_cfg``, an
entry of an ``init_cfg`` list, a head's; also mmseg's ``pretrained``
string), ``load_from``, and the file ``--resume`` reads (``load_from``
then).  Each is a local path, a URL, or one of the names mmengine's
``CheckpointLoader`` resolves to a URL (``open-mmlab://``, ``openmmlab://``,
``torchvision://``, ``modelzoo://``, ``mmcls://``).  A URL is read from torch
hub's cache, ``torch.hub.get_dir()/checkpoints/<file name of the URL>``,
and downloaded there on first use: mmengine's ``load_from_http`` (via
``torch.hub.load_state_dict_from_url``) and this package's safe http loader
(:func:`hrformer_mm.safe_load.load_checkpoint_url`) both cache there.
Other schemes (``s3://``, ``pavi://``, ...) are read by their own backends;
they are listed but not checked.

:func:`fetch` fills that cache ahead of time on a machine with internet
(``tools/fetch_weights.py``), for compute nodes that have none.
"""
import os
import os.path as osp
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Tuple
from urllib.parse import urlparse

import torch

__all__ = [
    'OFFLINE_ENV', 'URL_TIMEOUT', 'CheckpointSource', 'hub_cache_path',
    'is_local', 'resolve', 'checkpoints_named', 'url_problem', 'hash_prefix',
    'fetch', 'describe'
]

#: ``HRFORMER_OFFLINE=1``: never ask a server whether a URL that is not in
#: the cache could be downloaded; such a URL is then an error at once
OFFLINE_ENV = 'HRFORMER_OFFLINE'

#: seconds the check waits for a server's answer to its HEAD request
URL_TIMEOUT = 10

#: types of mmengine's checkpoint initialiser (``Pretrained``, registered
#: from the class ``PretrainedInit``), with or without a scope
_PRETRAINED_TYPES = ('Pretrained', 'PretrainedInit')

_URL_PREFIXES = ('http://', 'https://')


@dataclass(frozen=True)
class CheckpointSource:
    """One checkpoint a config names.

    ``key`` is the config key (``--cfg-options`` spelling, list entries by
    index), ``spec`` the value as written.  ``url`` is where it is
    downloaded from (None for a local file); ``path`` the local file it is
    read from (None where a storage backend of its own reads it, unchecked);
    ``error`` says why ``spec`` names nothing mmengine could read (an
    unknown ``open-mmlab://`` name).
    """
    key: str
    spec: str
    url: Optional[str] = None
    path: Optional[str] = None
    error: Optional[str] = None

    @property
    def checked(self) -> bool:
        return self.path is not None

    @property
    def present(self) -> bool:
        return self.path is not None and osp.isfile(self.path)


def hub_cache_path(url: str) -> str:
    """The file a URL is cached in: ``torch.hub.get_dir()/checkpoints/``
    and the last component of the URL's path, as torch's
    ``load_state_dict_from_url`` names it."""
    return osp.join(torch.hub.get_dir(), 'checkpoints',
                    osp.basename(urlparse(url).path))


def _scheme(spec: str) -> str:
    """The prefix of mmengine's ``CheckpointLoader`` that reads ``spec``
    (``''``: a local file), tried in mmengine's order."""
    from mmengine.runner.checkpoint import CheckpointLoader
    for prefix in CheckpointLoader._schemes:
        if prefix and re.match(prefix, spec) is not None:
            return prefix
    return ''


def is_local(spec: str) -> bool:
    """Whether mmengine's ``CheckpointLoader`` reads ``spec`` as a local
    file path."""
    return _scheme(spec) == ''


def _named_url(prefix: str, name: str) -> Tuple[Optional[str], str]:
    """``(url or None, local path or error)`` of an mmengine model name."""
    from mmengine.runner import checkpoint as ckpt
    if prefix in ('torchvision://', 'modelzoo://'):
        table, what = ckpt.get_torchvision_models(), "torchvision's table"
    elif prefix == 'mmcls://':
        table, what = ckpt.get_mmcls_models(), "mmengine's mmcls table"
    else:  # open-mmlab:// and openmmlab://
        table = ckpt.get_external_models()
        name = ckpt.get_deprecated_model_names().get(name, name)
        what = "mmengine's open-mmlab table (mmengine/hub/openmmlab.json " \
            'and $MMENGINE_HOME/open_mmlab.json)'
    if name not in table:
        return None, f'{what} has no entry {name!r}'
    target = table[name]
    if target.startswith(_URL_PREFIXES):
        return target, ''
    # an open-mmlab name may map to a file under mmengine's home
    return None, osp.join(ckpt._get_mmengine_home(), target)


def resolve(spec: str, key: str = '') -> CheckpointSource:
    """Where the checkpoint ``spec`` is downloaded from and read from, as
    mmengine's ``CheckpointLoader`` would do it."""
    prefix = _scheme(spec)
    if not prefix:
        return CheckpointSource(key, spec, path=osp.expanduser(spec))
    if prefix in _URL_PREFIXES:
        return CheckpointSource(key, spec, url=spec, path=hub_cache_path(spec))
    if prefix in ('torchvision://', 'modelzoo://', 'open-mmlab://',
                  'openmmlab://', 'mmcls://'):
        url, where = _named_url(prefix, spec[len(prefix):])
        if url is not None:
            return CheckpointSource(key, spec, url=url,
                                    path=hub_cache_path(url))
        if osp.isabs(where):
            return CheckpointSource(key, spec, path=where)
        return CheckpointSource(key, spec, error=where)
    return CheckpointSource(key, spec)


def _pretrained_specs(node, key: str) -> Iterator[Tuple[str, str]]:
    """``(config key, checkpoint)`` of every checkpoint initialiser and
    ``pretrained`` string under ``node``."""
    if isinstance(node, dict):
        kind = node.get('type')
        if isinstance(kind, str) and \
                kind.rsplit('.', 1)[-1] in _PRETRAINED_TYPES:
            if isinstance(node.get('checkpoint'), str) and node['checkpoint']:
                yield f'{key}.checkpoint', node['checkpoint']
            return
        for k, v in node.items():
            if k == 'pretrained' and isinstance(v, str) and v:
                yield f'{key}.{k}', v
            else:
                yield from _pretrained_specs(v, f'{key}.{k}')
    elif isinstance(node, (list, tuple)):
        for k, v in enumerate(node):
            yield from _pretrained_specs(v, f'{key}.{k}')


def checkpoints_named(cfg, training: bool = True) -> List[CheckpointSource]:
    """Every checkpoint ``cfg`` reads: with ``training``, the model's
    checkpoint initialisers (the Runner runs ``init_weights`` before
    training, and before resuming) and ``load_from``; else ``load_from``
    alone (evaluation never initialises weights)."""
    specs = list(_pretrained_specs(cfg.get('model'), 'model')) \
        if training else []
    if cfg.get('load_from'):
        specs.append(('load_from', cfg.load_from))
    return [resolve(spec, key) for key, spec in specs]


def url_problem(url: str, timeout: float = URL_TIMEOUT) -> Optional[str]:
    """Why ``url`` cannot be downloaded now, or None: one HEAD request,
    redirects followed.  A server that does not answer (no route, no name
    resolution, refused, ``timeout`` seconds passed) or answers 404 / 410
    is a problem; any other answer is left for the download to judge."""
    request = urllib.request.Request(url, method='HEAD')
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as e:
        if e.code in (404, 410):
            return f'the server answered {e.code} {e.reason}'
        return None
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, 'reason', e)
        return f'{urlparse(url).netloc} cannot be reached ({reason})'


def hash_prefix(path: str) -> Optional[str]:
    """The sha256 prefix a checkpoint's file name carries
    (``name-<hex>.pth``, torch hub's convention; OpenMMLab's releases
    follow it), or None."""
    found = torch.hub.HASH_REGEX.search(osp.basename(path))
    return found.group(1) if found and found.group(1) else None


def describe(source: CheckpointSource) -> str:
    """One line: key, URL, the local file, and whether it is there."""
    if source.error:
        state = f'error: {source.error}'
    elif not source.checked:
        state = 'not checked (read by its own storage backend)'
    else:
        state = 'present' if source.present else 'missing'
    url = source.url or ('-' if source.checked or source.error
                         else source.spec)
    return f'{source.key}  {url}  {source.path or "-"}  {state}'


def fetch(sources: List[CheckpointSource], progress: bool = True,
          log: Callable[[str], None] = print) -> List[CheckpointSource]:
    """Download every URL of ``sources`` that is not in the cache into it,
    each once, checking the sha256 prefix a file name carries (as torch
    hub does); returns the sources still not available (local files that
    are not there, failed downloads, errors)."""
    left, done = [], set()
    for source in sources:
        if not source.checked:
            if source.error:
                log(f'{source.key}: {source.error}')
                left.append(source)
            continue
        if source.present or source.url in done:
            continue
        if source.url is None:
            log(f'{source.key}: {source.path}: no such file (a local file: '
                'copy it here yourself)')
            left.append(source)
            continue
        os.makedirs(osp.dirname(source.path), exist_ok=True)
        log(f'{source.key}: downloading {source.url} to {source.path}')
        try:
            torch.hub.download_url_to_file(source.url, source.path,
                                           hash_prefix(source.path),
                                           progress=progress)
        except Exception as e:  # noqa: BLE001 - reported, others go on
            log(f'{source.key}: download failed: {type(e).__name__}: {e}')
            left.append(source)
            continue
        done.add(source.url)
    return left
