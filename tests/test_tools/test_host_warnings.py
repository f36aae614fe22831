"""The entry points hide the host libraries' warnings a user cannot act on
(hrformer_mm/host_warnings.py), by message, and nothing else: ours and the
user-actionable ones still show, in the data-loader workers too.  They load
it through tools/_preamble.py, which names the fix where this Python has no
hrformer_mm."""
import os
import os.path as osp
import re
import subprocess
import sys
import warnings

import pytest

from hrformer_mm.datasets import generate_coco_keypoints
from hrformer_mm.host_warnings import HOST_WARNINGS, quiet_host_warnings

from e2e_utils import PYTHON, ROOT, pose_config, pythonpath, run

PKG_RESOURCES = 'pkg_resources is deprecated as an API'


def _python(code: str, pythonwarnings: str = ''):
    env = dict(os.environ, PYTHONPATH=pythonpath(), OMP_NUM_THREADS='1',
               PYTHONWARNINGS=pythonwarnings)
    return subprocess.run([PYTHON, '-c', code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300,
                          check=True)


@pytest.mark.slow
def test_importing_the_package_alone_still_warns():
    """The control: the library itself silences nothing (and the warning
    the entry points hide is real in this environment)."""
    assert PKG_RESOURCES in _python('import hrformer_mm').stderr


@pytest.mark.slow
def test_training_hides_host_warnings_and_keeps_ours(tmp_path):
    root = tmp_path / 'coco'
    generate_coco_keypoints(str(root), num_train=8, num_val=4, seed=1)
    bad = sorted((root / 'train2017').iterdir())[0]
    bad.write_bytes(b'not an image')
    cfg = pose_config(tmp_path, str(root), epochs=1, extra=(
        "bad_images = 'skip'\n"
        "train_dataloader.update(num_workers=1)"))  # a forked worker warns
    proc = run([PYTHON, 'tools/train.py', cfg, '--work-dir',
                str(tmp_path / 'work')], env=dict(PYTHONWARNINGS=''))
    log = proc.stdout + proc.stderr
    assert PKG_RESOURCES not in proc.stderr
    assert 'The metainfo config file' not in proc.stderr  # mmpose's
    assert '"FileClient" will be deprecated' not in log  # mmengine's log
    # ours, raised in the data-loader worker, and the hook's count
    assert f'skipping undecodable image {bad}' in proc.stderr
    assert 'undecodable image(s) skipped so far' in log


@pytest.mark.slow
def test_child_processes_get_the_filters_after_the_users_own(monkeypatch):
    monkeypatch.setenv('PYTHONWARNINGS', 'error::FutureWarning')
    with warnings.catch_warnings():
        quiet_host_warnings()
        ours = warnings.filters[-len(HOST_WARNINGS):]  # after the user's
        assert [(f[0], f[1].pattern, f[2]) for f in ours] == [
            ('ignore', re.escape(m), c) for c, m in HOST_WARNINGS]
    options = os.environ['PYTHONWARNINGS'].split(',')
    # the user's option last: it wins over ours
    assert options[-1] == 'error::FutureWarning'
    assert f'ignore:{PKG_RESOURCES}:UserWarning' in options
    child = _python('import hrformer_mm', os.environ['PYTHONWARNINGS'])
    assert PKG_RESOURCES not in child.stderr
    assert 'Invalid -W option' not in child.stderr  # every entry parses
    # only the named warnings: another UserWarning still shows
    other = _python("import warnings; warnings.warn('pkg_resources is fine')",
                    os.environ['PYTHONWARNINGS'])
    assert 'UserWarning: pkg_resources is fine' in other.stderr
    # and the user's option still applies
    failed = subprocess.run(
        [sys.executable, '-c',
         "import warnings; warnings.warn('x', FutureWarning)"],
        env=dict(os.environ), capture_output=True, text=True)
    assert failed.returncode != 0 and 'FutureWarning: x' in failed.stderr


def _scripts_with_the_preamble():
    import glob
    return sorted(osp.relpath(p, ROOT) for p in
                  glob.glob(osp.join(ROOT, 'tools', '**', '*.py'),
                            recursive=True)
                  if not p.endswith('_preamble.py') and
                  "'_preamble.py'))" in open(p).read())


def test_entry_points_share_the_preamble():
    scripts = _scripts_with_the_preamble()
    for s in ('tools/train.py', 'tools/test.py', 'tools/zoo.py',
              'tools/analysis/benchmark.py', 'tools/analysis/complexity.py',
              'tools/deploy/export_onnx.py'):
        assert s in scripts, s


@pytest.mark.parametrize('script', _scripts_with_the_preamble())
def test_a_python_without_the_package_is_told_what_to_do(tmp_path, script):
    """Without site-packages (-S) nor the script's folder or PYTHON*
    variables (-I), from a folder with no checkout in it, hrformer_mm is
    not importable: the tools stop with what to do, not a traceback."""
    proc = subprocess.run(
        [PYTHON, '-I', '-S', osp.join(ROOT, script), '--help'],
        cwd=tmp_path, env=dict(PATH=os.environ.get('PATH', '')),
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc
    assert proc.stderr.startswith(
        'hrformer_mm is not installed in this Python'), proc.stderr
    assert 'tools/setup_env.sh' in proc.stderr
    assert 'Traceback' not in proc.stderr
