"""Shipping the OpenMMLab way: the wheel carries configs, tools and the model
index in hrformer_mm/.mim; installed into an environment that already holds
the stack (this project's own .venv stands in for a cluster image) it adds
only itself; mim finds, trains and tests the models from outside the
repository.

The wheel is installed with ``pip install --no-deps --target DIR`` and put
first on PYTHONPATH: the commands then run the installed copy (configs,
tools, model index out of DIR/hrformer_mm/.mim), not this checkout."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

from hrformer_mm.datasets import generate_coco_keypoints

from e2e_utils import ROOT

pytestmark = pytest.mark.e2e  # wheel builds, pip installs, mim jobs

PIP = [sys.executable, '-m', 'pip', '--disable-pip-version-check',
       '--no-input']
MIM = osp.join(osp.dirname(sys.executable), 'mim')


def _run(args, cwd, env=None, timeout=600):
    full = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    full.pop('PYTHONPATH', None)
    full.update(env or {})
    proc = subprocess.run(args, cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f'{" ".join(args)} failed ({proc.returncode}):\n'
        f'{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    # built from a copy: an in-tree build would write build/ and *.egg-info
    # into the checkout that other runs share
    src = str(tmp_path_factory.mktemp('src') / 'hrformer_mm')
    top = {'.git', '.venv', '.cache', 'data', 'work_dirs', 'build', 'shared',
           '.mim', '__pycache__', '.pytest_cache'}
    shutil.copytree(ROOT, src, symlinks=True, ignore=lambda d, names: [
        n for n in names if n in top or n.endswith('.egg-info')])
    out = tmp_path_factory.mktemp('wheel')
    _run(PIP + ['wheel', '-q', '--no-deps', '--no-build-isolation',
                '--no-index', '-w', str(out), src], cwd=str(out))
    (path, ) = [osp.join(out, f) for f in os.listdir(out)
                if f.endswith('.whl')]
    return path


@pytest.fixture(scope='module')
def installed(wheel, tmp_path_factory):
    target = tmp_path_factory.mktemp('site')
    _run(PIP + ['install', '-q', '--no-deps', '--no-index', '--target',
                str(target), wheel], cwd=str(target))
    return str(target)


def test_wheel_carries_configs_tools_and_model_index(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ('hrformer_mm/.mim/model-index.yml',
              'hrformer_mm/.mim/metafiles/hrformer.yml',
              'hrformer_mm/.mim/configs/pose/hrformer_demo_coco.py',
              'hrformer_mm/.mim/configs/_base_/seg_runtime.py',
              'hrformer_mm/.mim/tools/train.py',
              'hrformer_mm/.mim/tools/test.py',
              'hrformer_mm_mmcv_ext.pth', '_hrformer_mm_ext_finder.py'):
        assert f in names, f
    assert not any('__pycache__' in n for n in names)


def test_wheel_into_the_existing_environment_installs_only_itself(
        wheel, tmp_path):
    """What `pip install hrformer_mm-*.whl` would do to .venv: with no index
    at all every requirement must already be satisfied, and nothing but
    this package may be (re)installed (no mmcv, chumpy, torch)."""
    report = tmp_path / 'report.json'
    _run(PIP + ['install', '--dry-run', '--no-index', '--report',
                str(report), wheel], cwd=str(tmp_path))
    install = json.loads(report.read_text())['install']
    names = {i['metadata']['name'].lower().replace('_', '-')
             for i in install}
    assert names <= {'hrformer-mm'}, names


def test_setup_requires_no_torch_mmcv_or_broken_hosts(wheel):
    meta = zipfile.ZipFile(wheel).read(
        [n for n in zipfile.ZipFile(wheel).namelist()
         if n.endswith('.dist-info/METADATA')][0]).decode()
    reqs = [line.split(':', 1)[1].strip() for line in meta.splitlines()
            if line.startswith('Requires-Dist:') and 'extra ==' not in line]
    for bad in ('torch', 'mmcv', 'mmpose', 'mmdet', 'mmpretrain', 'chumpy'):
        assert not any(r.split('>')[0].split('<')[0].split('=')[0].strip()
                       == bad for r in reqs), reqs
    assert any(r.startswith('mmengine') for r in reqs)


def test_mim_search_lists_the_zoo_from_the_installed_copy(installed,
                                                          tmp_path):
    proc = _run([MIM, 'search', 'hrformer_mm'], cwd=str(tmp_path),
                env=dict(PYTHONPATH=installed))
    for name in ('hrformer_b_coco', 'hrnetv2_w48_ocr_ade20k',
                 'hrnetv2p_w32_mask_rcnn_coco', 'hrvit_b1_segformer_ade20k'):
        assert name in proc.stdout, proc.stdout[-2000:]


def test_mim_train_and_test_by_config_name_outside_the_repo(installed,
                                                            tmp_path):
    """The pose demo config, found by name in the installed .mim/configs;
    its data_root (data/demo/coco) is relative to the working directory.
    Cut to one epoch over 8 generated images."""
    generate_coco_keypoints(str(tmp_path / 'data/demo/coco'), num_train=8,
                            num_val=4, seed=1)
    loaders = ' '.join(
        f'{d}_dataloader.num_workers=0 {d}_dataloader.persistent_workers='
        'False' for d in ('train', 'val', 'test'))
    opts = ['--cfg-options', 'train_cfg.max_epochs=1',
            'default_hooks.logger.interval=1'] + loaders.split()
    env = dict(PYTHONPATH=installed)
    proc = _run([MIM, 'train', 'hrformer_mm',
                 'configs/pose/hrformer_demo_coco.py', '--work-dir', 'w']
                + opts, cwd=str(tmp_path), env=env)
    assert osp.join(installed, 'hrformer_mm', '.mim', 'configs', 'pose',
                    'hrformer_demo_coco.py') in proc.stdout + proc.stderr
    ckpt = tmp_path / 'w' / 'epoch_1.pth'
    assert ckpt.exists()
    proc = _run([MIM, 'test', 'hrformer_mm', 'hrformer_demo_coco.py',
                 '--checkpoint', str(ckpt), '--work-dir', 'wt'] + opts,
                cwd=str(tmp_path), env=env)
    metrics = json.loads((tmp_path / 'wt' / 'metrics.json').read_text())
    assert 'coco/AP' in json.dumps(metrics), metrics


def _demo_data_and_opts(tmp_path):
    generate_coco_keypoints(str(tmp_path / 'data/demo/coco'), num_train=8,
                            num_val=4, seed=1)
    return ['--cfg-options', 'train_cfg.max_epochs=1'] + [
        f'{d}_dataloader.{k}' for d in ('train', 'val', 'test')
        for k in ('num_workers=0', 'persistent_workers=False')]


def test_mim_train_launcher_slurm_runs_the_installed_tool_under_srun(
        installed, tmp_path):
    """`--launcher slurm`: mim builds the srun line; a stub srun records
    it (no cluster here).  mim 0.3.9 under click 8.5 needs `--srun-args`
    given (unset, it is click's sentinel, which mim calls .split() on)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(
        '#!/bin/sh\nprintf "%s\\n" "$@" > "$SRUN_ARGS"\n')
    (bin_dir / 'srun').chmod(0o755)
    args_file = tmp_path / 'srun_args'
    _run([MIM, 'train', 'hrformer_mm', 'hrformer_b_coco.py', '--launcher',
          'slurm', '--gpus', '16', '--gpus-per-node', '8', '--partition',
          'P', '--srun-args', '--job-name=zoo', '--work-dir', 'w'],
         cwd=str(tmp_path),
         env=dict(PYTHONPATH=installed, SRUN_ARGS=str(args_file),
                  PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}"))
    args = args_file.read_text().split('\n')
    mim_dir = osp.join(installed, 'hrformer_mm', '.mim')
    assert args[:2] == ['-p', 'P'] and '--ntasks=16' in args
    assert '--job-name=zoo' in args
    i = args.index(osp.join(mim_dir, 'tools', 'train.py'))
    assert args[i + 1] == osp.join(mim_dir, 'configs', 'pose',
                                   'hrformer_b_coco.py')
    assert args[i + 2:i + 4] == ['--launcher', 'slurm']


def test_mim_train_launcher_pytorch_one_cpu_process(installed, tmp_path):
    """`--launcher pytorch`: mim starts torch.distributed.launch; one
    process on the CPU (gloo), the demo config at one epoch."""
    opts = _demo_data_and_opts(tmp_path)
    _run([MIM, 'train', 'hrformer_mm', 'hrformer_demo_coco.py', '--launcher',
          'pytorch', '--gpus', '1', '--port', str(29600 + os.getpid() % 300),
          '--work-dir', 'w'] + opts, cwd=str(tmp_path),
         env=dict(PYTHONPATH=installed))
    assert (tmp_path / 'w' / 'epoch_1.pth').exists()


_IMPORT_EVERY_MODULE = r'''
import importlib, json, pkgutil, sys
import hrformer_mm
names = ['hrformer_mm'] + sorted(
    m.name for m in pkgutil.walk_packages(hrformer_mm.__path__,
                                          'hrformer_mm.'))
files, failed = {}, {}
for name in names:
    try:
        files[name] = importlib.import_module(name).__file__
    except Exception as e:  # noqa: BLE001  (reported by the test)
        failed[name] = f'{type(e).__name__}: {e}'
print(json.dumps(dict(files=files, failed=failed)))
'''


def test_every_shipped_module_imports_from_the_wheel(installed, tmp_path):
    """Every module of the installed package imports from the wheel alone
    (run outside the checkout, which is not on the path), and the wheel
    ships exactly the package's source modules."""
    proc = _run([sys.executable, '-c', _IMPORT_EVERY_MODULE],
                cwd=str(tmp_path), env=dict(PYTHONPATH=installed))
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not report['failed'], report['failed']
    package = osp.join(installed, 'hrformer_mm') + os.sep
    outside = {n: f for n, f in report['files'].items()
               if not f.startswith(package)}
    assert not outside, outside
    checkout = set()
    for path, _, names in os.walk(osp.join(ROOT, 'hrformer_mm')):
        if '.mim' in path.split(os.sep):
            continue
        rel = osp.relpath(path, ROOT).replace(os.sep, '.')
        checkout.update(rel if n == '__init__.py' else f'{rel}.{n[:-3]}'
                        for n in names if n.endswith('.py'))
    assert set(report['files']) == checkout
