"""What every script under tools/ runs first, loaded by path (not a tool)::

    if __name__ == '__main__':  # before anything imports the hosts
        runpy.run_path(osp.join(osp.dirname(__file__), '_preamble.py'))

(``'..', '_preamble.py'`` from tools/analysis and tools/deploy).  It finds
the installed hrformer_mm without importing it (that would import
mmengine) and applies the filters of hrformer_mm/host_warnings.py before
the hosts are imported, or stops, saying so, where this Python has no
hrformer_mm.  Standard library only.
"""
import os.path as osp
import runpy
import sys
from importlib.util import find_spec

_spec = find_spec('hrformer_mm')
if _spec is None or _spec.origin is None:
    raise SystemExit(
        f'hrformer_mm is not installed in this Python ({sys.executable}): '
        'run bash tools/setup_env.sh in the checkout (or pip install -e .) '
        'and use the Python it installs into (.venv/bin/python)')
runpy.run_path(osp.join(osp.dirname(_spec.origin),
                        'host_warnings.py'))['quiet_host_warnings']()
