"""Start-up hook: ``mmcv._ext`` for mmcv-lite, whatever is imported first.

mmpose, mmseg and mmdet import ``mmcv.ops`` (hence the compiled
``mmcv._ext``) when their models or APIs are imported.  mmcv-lite has no
``_ext``, so ``from mmpose.apis import init_model`` as a script's first line
fails unless ``hrformer_mm`` was imported before.  The
``hrformer_mm_mmcv_ext.pth`` file this project installs into site-packages
runs :func:`install` at interpreter start-up, which appends
:class:`MmcvExtFallbackFinder` to the END of ``sys.meta_path``: every other
finder (the one that finds a real ``mmcv/_ext*.so`` included) is asked
first, so this one only answers when no real extension exists, and then
serves ``hrformer_mm.ops_fallback.make_ext_module()``.

Start-up cost: this module imports nothing beyond ``sys``; the placeholder
(and torch, torchvision) load only when ``mmcv._ext`` is imported.  The
placeholder module is loaded from its file, without running
``hrformer_mm/__init__.py`` (which imports the hosts' models, i.e. whatever
is being imported at that moment).
"""
import sys

_NAME = 'mmcv._ext'
_FALLBACK = 'hrformer_mm.ops_fallback'


def _load_fallback():
    """``hrformer_mm.ops_fallback`` without importing its package, or None
    when hrformer_mm is not installed (this file outliving it)."""
    module = sys.modules.get(_FALLBACK)
    if module is not None:
        return module
    import importlib.util
    import os.path as osp
    try:
        package = importlib.util.find_spec('hrformer_mm')
    except (ImportError, ValueError):
        return None
    if package is None or not package.submodule_search_locations:
        return None
    for folder in package.submodule_search_locations:
        path = osp.join(folder, 'ops_fallback.py')
        if osp.isfile(path):
            break
    else:
        return None
    spec = importlib.util.spec_from_file_location(_FALLBACK, path)
    module = importlib.util.module_from_spec(spec)
    # registered under its real name, so that ``import hrformer_mm`` later
    # finds this very module (one MissingCompiledOpError class, not two)
    sys.modules[_FALLBACK] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_FALLBACK]
        raise
    return module


class _Loader:

    def __init__(self, fallback):
        self.fallback = fallback

    def create_module(self, spec):
        return self.fallback.make_ext_module(spec)

    def exec_module(self, module):
        pass


class MmcvExtFallbackFinder:
    """Answers for ``mmcv._ext`` only, and only as the last finder asked."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != _NAME:
            return None
        fallback = _load_fallback()
        if fallback is None:
            return None
        from importlib.machinery import ModuleSpec
        return ModuleSpec(_NAME, _Loader(fallback), origin=fallback.ORIGIN)


def install() -> None:
    """Append the finder to ``sys.meta_path`` (once)."""
    if MmcvExtFallbackFinder not in sys.meta_path:
        sys.meta_path.append(MmcvExtFallbackFinder)
