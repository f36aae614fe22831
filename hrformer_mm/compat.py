"""Work-arounds for the OpenMMLab stack on current PyTorch / NumPy.

Each function fixes one measured breakage (see docs/environment.md).  They
are applied once by :func:`apply_all`, which ``import hrformer_mm`` calls, so a config
with ``custom_imports = dict(imports=['hrformer_mm'])`` gets them too.
"""
import functools
import importlib
import importlib.util
import sys
import types

import numpy as np

_APPLIED = False


# The placeholder for mmcv's compiled ops lives in its own module (which the
# start-up finder also loads, before this package can be imported).
from . import ops_fallback  # noqa: E402
from .ops_fallback import (MissingCompiledOpError,  # noqa: E402,F401
                           UnsupportedOpOptionError)

# loaded by file from the start-up finder, the module is in sys.modules but
# not yet an attribute of the package
setattr(sys.modules[__package__], 'ops_fallback', ops_fallback)


def install_mmcv_ops_placeholder() -> bool:
    """Make ``mmcv._ext`` importable where mmcv's compiled ops are absent.

    A real compiled extension always wins.  Otherwise ``mmcv._ext`` becomes
    :func:`hrformer_mm.ops_fallback.make_ext_module`'s module (torchvision
    serves nms / roi_align, every other op raises naming itself), put in
    place here unless the start-up finder already serves it.

    Returns True when ``mmcv._ext`` is the placeholder.
    """
    if 'mmcv._ext' not in sys.modules:
        if importlib.util.find_spec('mmcv') is None:
            return False
        try:
            spec = importlib.util.find_spec('mmcv._ext')
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            sys.modules['mmcv._ext'] = ops_fallback.make_ext_module()
        elif spec.origin == ops_fallback.ORIGIN:
            importlib.import_module('mmcv._ext')
        else:
            return False
    # `is True`: an extension module may answer every attribute
    return getattr(sys.modules['mmcv._ext'], 'is_placeholder', False) is True


def install_checkpoint_loader() -> None:
    """Make mmengine's local-file and http(s) loaders work with torch >= 2.6
    without giving up its safe unpickler: ``weights_only=True`` plus the
    allow-list of types mmengine's own checkpoints hold
    (:mod:`hrformer_mm.safe_load`).  mmengine 0.10.7 predates torch's
    ``weights_only`` default and cannot load the message hub it wrote itself
    otherwise; its http loader still unpickles fully."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from .safe_load import load_checkpoint_file, load_checkpoint_url

    CheckpointLoader.register_scheme(prefixes='', loader=load_checkpoint_file,
                                     force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'),
                                     loader=load_checkpoint_url, force=True)


def _atomic_write(data, filepath, mode: str, **open_kwargs) -> None:
    """Write to a temporary file next to ``filepath``, then rename it over
    ``filepath``: a reader (or ``--resume``) sees the old file or the
    complete new one, never a truncated one."""
    import os
    import os.path as osp
    import tempfile
    filepath = str(filepath)
    folder = osp.dirname(filepath) or '.'
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder,
                               prefix=f'.{osp.basename(filepath)}.',
                               suffix='.tmp')
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def install_atomic_local_writes() -> None:
    """mmengine writes checkpoints (and the ``last_checkpoint`` marker) with
    ``open(path, 'wb').write``: a run killed while saving leaves a
    truncated file that auto-resume then picks.  Make the local backend's
    writes atomic."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    if getattr(LocalBackend.put, 'hrformer_mm_atomic', False):
        return

    def put(self, obj: bytes, filepath) -> None:
        _atomic_write(obj, filepath, 'wb')

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        _atomic_write(obj, filepath, 'w', encoding=encoding)

    put.hrformer_mm_atomic = put_text.hrformer_mm_atomic = True
    put.__doc__ = LocalBackend.put.__doc__
    put_text.__doc__ = LocalBackend.put_text.__doc__
    LocalBackend.put = put
    LocalBackend.put_text = put_text


class _NumpyCopyShim(types.ModuleType):
    """``numpy`` as seen by a module written for NumPy 1, where
    ``np.array(x, copy=False)`` meant "copy only if needed" (NumPy 2 raises
    instead)."""

    def __init__(self):
        super().__init__('numpy')

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def array(obj, *args, copy=True, **kwargs):
        if copy is False:
            return np.asarray(obj, *args, **kwargs)
        return np.array(obj, *args, copy=copy, **kwargs)


def patch_mmpose_visualizer_for_numpy2() -> bool:
    """mmpose 1.3.2's visualizers call ``np.array(kpts, copy=False)``, which
    NumPy 2 rejects whenever the keypoints need converting, and ``int()`` on
    1-element arrays, which NumPy 2 rejects outright."""
    if int(np.__version__.split('.')[0]) < 2 or \
            importlib.util.find_spec('mmpose') is None:
        return False
    from mmpose.visualization import local_visualizer
    from mmpose.visualization.opencv_backend_visualizer import \
        OpencvBackendVisualizer
    local_visualizer.np = _NumpyCopyShim()
    # It also passes radius=np.array([r]) on to int(), which NumPy 2 refuses
    # for arrays that are not 0-dimensional.
    draw_circles = OpencvBackendVisualizer.draw_circles
    if not getattr(draw_circles, 'hrformer_mm_patched', False):

        @functools.wraps(draw_circles)
        def draw_circles_scalar_radius(self, center, radius, *args,
                                       **kwargs):
            if isinstance(radius, np.ndarray) and radius.size == 1:
                radius = radius.item()
            return draw_circles(self, center, radius, *args, **kwargs)

        draw_circles_scalar_radius.hrformer_mm_patched = True
        OpencvBackendVisualizer.draw_circles = draw_circles_scalar_radius
    return True


def apply_all() -> None:
    global _APPLIED
    if _APPLIED:
        return
    install_mmcv_ops_placeholder()
    install_checkpoint_loader()
    install_atomic_local_writes()
    patch_mmpose_visualizer_for_numpy2()
    _APPLIED = True
