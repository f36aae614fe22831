"""The host libraries' warnings a user cannot act on, filtered by the entry
points (``tools/*.py``), never by the library.

mmengine imports ``pkg_resources`` (setuptools' deprecation warning on
every run), mmpose's datasets point at a metainfo file by a path relative
to mmpose's own source tree, mmseg's heads call its deprecated
``build_loss`` and ``build_pixel_sampler``, mmengine's ``CheckpointHook``
builds a ``FileClient``: none of it is the user's doing or theirs to fix, and it buries the
warnings that are (a skipped image, a deprecated option of ours, mmseg's
``avg_non_ignore`` advice).  Each filter names one message and its
category; every other warning is shown as before.

``import hrformer_mm`` imports mmengine, so an entry point applies the
filters before importing the package, loading this file by path (it uses
the standard library only); the scripts under tools/ do it through
tools/_preamble.py, which also stops with what to do where this Python has
no hrformer_mm::

    import os.path as osp
    import runpy
    from importlib.util import find_spec

    runpy.run_path(osp.join(osp.dirname(find_spec('hrformer_mm').origin),
                            'host_warnings.py'))['quiet_host_warnings']()

:func:`quiet_host_warnings` also puts the filters into ``PYTHONWARNINGS``
for the processes the entry point starts (spawned data-loader workers,
``torchrun`` children); forked workers inherit them anyway.  The hosts'
logger warnings of the same kind are filtered on the runner's logger by
:func:`quiet_host_logs`.
"""
import logging
import os
import re
import warnings

#: (category, the start of the message): the warnings filtered
HOST_WARNINGS = (
    # mmengine/utils/package_utils.py imports pkg_resources (setuptools)
    (UserWarning, 'pkg_resources is deprecated as an API'),
    # mmcv/cnn/bricks/transformer.py, imported by mmseg / mmdet / mmpose
    # models, where mmcv's compiled ops are absent (hrformer_mm's ops
    # fallback serves the ones its models use, docs/environment.md)
    (UserWarning, 'Fail to import ``MultiScaleDeformableAttention``'),
    (ImportWarning, '``MultiScaleDeformableAttention`` has been moved'),
    # mmpose's dataset classes name their metainfo by a path relative to
    # mmpose's source tree and find it in the installed package instead
    (UserWarning, 'The metainfo config file "configs/_base_/datasets/'),
    # mmseg's own heads build their losses with its deprecated builder
    (UserWarning, '``build_loss`` would be deprecated soon'),
    (UserWarning, '``build_pixel_sampler`` would be deprecated soon'),
)

#: the start of the hosts' logger warnings filtered by quiet_host_logs
HOST_LOG_WARNINGS = (
    # mmengine's CheckpointHook builds a FileClient on every run
    '"FileClient" will be deprecated in future',
    '"HardDiskBackend" is the alias of "LocalBackend"',
    # mmseg's IoUMetric has no default prefix (a prefix would rename mIoU)
    'The prefix is not set in metric class IoUMetric',
)


def _option(category: type, message: str) -> str:
    """The ``PYTHONWARNINGS`` entry (``action:message:category``, the
    message a literal start) of one filter."""
    if ':' in message or ',' in message:
        raise ValueError(f'{message!r}: ":" and "," separate PYTHONWARNINGS '
                         f'fields and entries')
    return f'ignore:{message}:{category.__name__}'


def quiet_host_warnings() -> None:
    """Filter :data:`HOST_WARNINGS` in this process and in the processes it
    starts.  The user's own ``-W`` / ``PYTHONWARNINGS`` options take
    precedence (the filters are appended after them)."""
    for category, message in HOST_WARNINGS:
        warnings.filterwarnings('ignore', message=re.escape(message),
                                category=category, append=True)
    ours = [_option(c, m) for c, m in HOST_WARNINGS]
    current = [o for o in os.environ.get('PYTHONWARNINGS', '').split(',')
               if o]
    # the entries last in PYTHONWARNINGS win: the user's after ours
    os.environ['PYTHONWARNINGS'] = ','.join(
        [o for o in ours if o not in current] + current)


class _HostLogFilter(logging.Filter):

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and str(
            record.msg).startswith(HOST_LOG_WARNINGS))


def quiet_host_logs(logger: logging.Logger) -> None:
    """Drop :data:`HOST_LOG_WARNINGS` from ``logger`` (the runner's
    ``MMLogger``, which mmengine's ``print_log`` writes to)."""
    if not any(isinstance(f, _HostLogFilter) for f in logger.filters):
        logger.addFilter(_HostLogFilter())
