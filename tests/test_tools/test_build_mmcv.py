"""tools/build_mmcv.sh: which cached mmcv wheel it installs, and when it
builds one, on CPU and GPU hosts.

The script runs as it is, against a stand-in for the venv's python: a
small program that answers the script's ``python -c`` snippets with a fake
``torch`` (version, CUDA build, whether a GPU is visible) and a fake
``mmcv.ops`` (the compiled ops of the wheel installed last), and plays
``pip download`` / ``pip wheel`` (a 'wheel' recording whether it was built
with CUDA ops, as mmcv's setup.py decides: a visible GPU or FORCE_CUDA=1) /
``pip install``, logging every pip call.  Nothing is downloaded or
compiled."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
WHEEL = 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl'

FAKE_PYTHON = f'#!{sys.executable}\n' + textwrap.dedent(r'''
    import io, json, os, sys, tarfile
    state = os.environ['FAKE_STATE']
    args = sys.argv[1:]
    if args[0] == '-c':
        sys.path.insert(0, os.path.join(state, 'site'))
        sys.argv = ['-c']
        exec(compile(args[1], '<string>', 'exec'), {'__name__': '__main__'})
        sys.exit(0)
    assert args[:2] == ['-m', 'pip'], args
    with open(os.path.join(state, 'pip.log'), 'a') as f:
        f.write(json.dumps(args[2:]) + '\n')
    cmd, rest = args[2], args[3:]
    if cmd == 'download':
        out = rest[rest.index('-d') + 1]
        with tarfile.open(os.path.join(out, 'mmcv-2.1.0.tar.gz'), 'w:gz') as t:
            data = b'extra_compile_args = ["-std=c++17"]\n'
            info = tarfile.TarInfo('mmcv-2.1.0/setup.py')
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    elif cmd == 'wheel':
        with open('setup.py') as f:  # the script's C++ standard patch
            assert '-std=c++20' in f.read()
        torch = json.load(open(os.path.join(state, 'torch.json')))
        cuda = torch['gpu'] or os.environ.get('FORCE_CUDA') == '1'
        out = rest[rest.index('-w') + 1]
        with open(os.path.join(out, WHEEL_NAME), 'w') as f:
            f.write(torch['cuda'] if cuda else 'not available')
    elif cmd == 'install' and rest[-1].endswith('.whl'):
        with open(rest[-1]) as f, \
                open(os.path.join(state, 'installed'), 'w') as g:
            g.write(f.read())
''').replace('WHEEL_NAME', repr(WHEEL))

FAKE_TORCH = '''
import json, os
_t = json.load(open(os.path.join(os.environ['FAKE_STATE'], 'torch.json')))
__version__ = _t['version']
class version:
    cuda = _t['cuda']
class cuda:
    @staticmethod
    def is_available():
        return _t['gpu']
'''

FAKE_MMCV_OPS = '''
import os
def get_compiling_cuda_version():
    with open(os.path.join(os.environ['FAKE_STATE'], 'installed')) as f:
        return f.read()
'''


@pytest.fixture
def host(tmp_path):
    """``host(gpu=..., torch=..., cuda=..., **env)`` runs a copy of the
    script (its cache in the copy's tree) on such a host; returns the pip
    calls and the compiled ops of the mmcv installed last."""
    tools = tmp_path / 'repo' / 'tools'
    tools.mkdir(parents=True)
    shutil.copy(osp.join(ROOT, 'tools', 'build_mmcv.sh'), tools)
    (tmp_path / 'repo' / 'requirements').mkdir()
    state = tmp_path / 'state'
    site = state / 'site'
    (site / 'torch').mkdir(parents=True)
    (site / 'torch' / '__init__.py').write_text(FAKE_TORCH)
    (site / 'mmcv' / 'ops').mkdir(parents=True)
    (site / 'mmcv' / '__init__.py').write_text('')
    (site / 'mmcv' / 'ops' / '__init__.py').write_text(FAKE_MMCV_OPS)
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    python = venv / 'bin' / 'python'
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)

    def run(gpu, torch='2.14.1+cu130', cuda='13.0', check=True, **env):
        (state / 'torch.json').write_text(json.dumps(
            dict(version=torch, cuda=cuda, gpu=gpu)))
        (state / 'pip.log').write_text('')
        base = {k: v for k, v in os.environ.items() if k != 'FORCE_CUDA'}
        proc = subprocess.run(
            ['bash', str(tools / 'build_mmcv.sh'), str(venv)], text=True,
            capture_output=True, timeout=60,
            env=dict(base, FAKE_STATE=str(state), **env))
        if check:
            assert proc.returncode == 0, proc.stderr
        calls = [json.loads(line)
                 for line in (state / 'pip.log').read_text().splitlines()]
        installed = (state / 'installed').read_text() \
            if (state / 'installed').exists() else None
        return proc, calls, installed

    run.cache = tmp_path / 'repo' / '.cache' / 'wheels'
    return run


def builds(calls):
    return sum(c[0] == 'wheel' for c in calls)


def test_a_cpu_wheel_is_not_reused_on_a_gpu_host(host):
    _, calls, installed = host(gpu=False)
    assert builds(calls) == 1 and installed == 'not available'
    _, calls, installed = host(gpu=True)
    assert builds(calls) == 1 and installed == '13.0'
    # both flavours stay cached: neither host builds again
    for gpu, ops in ((False, 'not available'), (True, '13.0')):
        _, calls, installed = host(gpu=gpu)
        assert builds(calls) == 0 and installed == ops
        assert ['install', '-q', '--no-deps', '--force-reinstall'] == \
            calls[-1][:-1]
    assert sorted(p.name for p in (host.cache / 'mmcv-2.1.0').iterdir()) \
        == ['torch2.14.1-cpu', 'torch2.14.1-cu13.0']


def test_force_cuda_builds_cuda_ops_on_a_host_without_gpus(host):
    _, calls, installed = host(gpu=False, FORCE_CUDA='1')
    assert builds(calls) == 1 and installed == '13.0'
    assert (host.cache / 'mmcv-2.1.0' / 'torch2.14.1-cu13.0' / WHEEL).is_file()


def test_another_torch_or_cuda_builds_again(host):
    host(gpu=True)
    for torch, cuda in (('2.15.0+cu130', '13.0'), ('2.14.1+cu128', '12.8')):
        _, calls, installed = host(gpu=True, torch=torch, cuda=cuda)
        assert builds(calls) == 1 and installed == cuda


def test_a_cached_wheel_of_the_wrong_flavour_is_rebuilt(host):
    """A wheel under the CUDA key whose ops are CPU-only (a wheel of unknown
    origin, e.g. one from the flat cache of older setups copied there) is
    found out when installed, removed, and built again."""
    wrong = host.cache / 'mmcv-2.1.0' / 'torch2.14.1-cu13.0'
    wrong.mkdir(parents=True)
    (wrong / WHEEL).write_text('not available')
    proc, calls, installed = host(gpu=True)
    assert builds(calls) == 1 and installed == '13.0'
    assert 'is not a torch2.14.1-cu13.0 build' in proc.stderr


def test_a_wheel_of_the_flat_cache_is_not_taken_for_any_flavour(host):
    host.cache.mkdir(parents=True)
    (host.cache / WHEEL).write_text('not available')  # flavour unknown
    _, calls, installed = host(gpu=True)
    assert builds(calls) == 1 and installed == '13.0'


def test_force_cuda_without_a_cuda_torch_is_refused(host):
    proc, calls, _ = host(gpu=False, cuda=None, FORCE_CUDA='1',
                          check=False)
    assert proc.returncode != 0 and calls == []
    assert 'FORCE_CUDA=1, but this torch has no CUDA' in proc.stderr
