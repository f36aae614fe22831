"""The hosts' own unit tests of their HRNet / HRFormer, run against this
package's classes.

Each host's backbone test file is taken at the version installed here
(from the host's source distribution on PyPI where it ships its tests, as
mmsegmentation does, otherwise from the release tag on GitHub, as for
mmpose, mmdet and mmpretrain; cached under
``~/.cache/hrformer_mm/host_tests``), and run by pytest in a process of
its own with this module as a plugin: under the host's default scope, with
the host's ``HRNet`` / ``HRFormer`` replaced by ``hrformer_mm``'s in the
modules the test imports them from and in the host's registry.  Tests of
the host's internal modules (which this package builds differently, e.g.
mmpose's ``HRModule``) are deselected, each with its reason in
:data:`HOST_INTERNAL`.

``tools/run_host_backbone_tests.py`` is the command.
"""
import importlib
import json
import os
import os.path as osp
import subprocess
import sys
import tarfile
import urllib.request
from importlib.metadata import version as installed_version
from typing import Dict, List, Optional, Sequence

__all__ = ['HOST_TEST_FILES', 'HOST_INTERNAL', 'FetchError',
           'default_cache', 'fetch_host_tests', 'run_host_tests']

BACKBONE_TESTS = 'tests/test_models/test_backbones'

#: per host: its distribution, GitHub repository, test files, and for each
#: class ours replaces, the modules the tests import it from
HOST_TEST_FILES = {
    'mmpose': dict(
        dist='mmpose', repo='open-mmlab/mmpose',
        files=(f'{BACKBONE_TESTS}/test_hrnet.py',
               f'{BACKBONE_TESTS}/test_hrformer.py'),
        classes={'HRNet': ('mmpose.models.backbones',
                           'mmpose.models.backbones.hrnet'),
                 'HRFormer': ('mmpose.models.backbones',
                              'mmpose.models.backbones.hrformer')}),
    'mmseg': dict(
        dist='mmsegmentation', repo='open-mmlab/mmsegmentation',
        files=(f'{BACKBONE_TESTS}/test_hrnet.py', ),
        classes={'HRNet': ('mmseg.models.backbones',
                           'mmseg.models.backbones.hrnet')}),
    'mmdet': dict(
        dist='mmdet', repo='open-mmlab/mmdetection',
        files=(f'{BACKBONE_TESTS}/test_hrnet.py', ),
        classes={'HRNet': ('mmdet.models.backbones',
                           'mmdet.models.backbones.hrnet')}),
    'mmpretrain': dict(
        dist='mmpretrain', repo='open-mmlab/mmpretrain',
        files=(f'{BACKBONE_TESTS}/test_hrnet.py', ),
        classes={'HRNet': ('mmpretrain.models.backbones',
                           'mmpretrain.models.backbones.hrnet')}),
}

_HRMODULE = ("tests the host's HRModule class alone (its constructor "
             'arguments and checks); hrformer_mm builds a stage from '
             'HighResolutionModule + MultiResolutionFusion instead')
#: ``(host, file, test) -> why`` for every test that is not run
HOST_INTERNAL = {
    ('mmpose', f'{BACKBONE_TESTS}/test_hrnet.py',
     'TestHrnet::test_hrmodule'): _HRMODULE,
    ('mmpose', f'{BACKBONE_TESTS}/test_hrformer.py',
     'TestHrformer::test_hrformer_module'):
    "tests mmpose's HRFomerModule class alone; hrformer_mm's HRFormer "
    'builds a stage from HRFormerBranch + MultiResolutionFusion',
    ('mmseg', f'{BACKBONE_TESTS}/test_hrnet.py', 'test_hrmodule'): _HRMODULE,
    ('mmdet', f'{BACKBONE_TESTS}/test_hrnet.py', 'test_hrmodule'): _HRMODULE,
}


class FetchError(RuntimeError):
    """A host's test file could be found in none of its sources."""


def default_cache() -> str:
    root = os.environ.get('XDG_CACHE_HOME', osp.expanduser('~/.cache'))
    return osp.join(root, 'hrformer_mm', 'host_tests')


def _write(dest: str, path: str, data: bytes) -> None:
    os.makedirs(osp.dirname(osp.join(dest, path)), exist_ok=True)
    with open(osp.join(dest, path), 'wb') as out:
        out.write(data)


def _from_sdist(dist: str, version: str, files: Sequence[str],
                dest: str, cache: str) -> List[str]:
    """Extracts ``files`` from ``dist``'s source distribution (downloaded
    once into ``cache/sdists``) into ``dest``; returns those it holds."""
    sdists = osp.join(cache, 'sdists')
    name = f'{dist}-{version}.tar.gz'
    if not osp.exists(osp.join(sdists, name)):
        # no build isolation: reading the metadata of some hosts' setup.py
        # imports torch, which is here
        subprocess.run([sys.executable, '-m', 'pip', 'download', '-q',
                        '--no-deps', '--no-binary', ':all:',
                        '--no-build-isolation', f'{dist}=={version}', '-d',
                        sdists],
                       check=False, capture_output=True)
    if not osp.exists(osp.join(sdists, name)):
        return []
    found = []
    with tarfile.open(osp.join(sdists, name)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        for f in files:
            member = members.get(f'{dist}-{version}/{f}')
            if member is None:
                continue
            _write(dest, f, tar.extractfile(member).read())
            found.append(f)
    return found


def _from_github(repo: str, version: str, path: str, dest: str) -> bool:
    url = f'https://raw.githubusercontent.com/{repo}/v{version}/{path}'
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            text = response.read()
    except OSError:
        return False
    _write(dest, path, text)
    return True


def fetch_host_tests(host: str, cache: Optional[str] = None) -> str:
    """The folder holding ``host``'s test files at the installed version
    (``cache/<dist>-<version>/tests/...``), fetching what is missing."""
    spec = HOST_TEST_FILES[host]
    cache = cache or default_cache()
    version = installed_version(spec['dist'])
    dest = osp.join(cache, f"{spec['dist']}-{version}")
    missing = [f for f in spec['files'] if not osp.exists(osp.join(dest, f))]
    if missing:
        got = _from_sdist(spec['dist'], version, missing, dest, cache)
        missing = [f for f in missing if f not in got and
                   not _from_github(spec['repo'], version, f, dest)]
    if missing:
        raise FetchError(
            f"{host} {version}: {missing} are neither in {spec['dist']}'s "
            f"source distribution nor reachable at github.com/"
            f"{spec['repo']} (tag v{version}); put them under {dest}")
    return dest


def run_host_tests(host: str, cache: Optional[str] = None,
                   timeout: float = 1800) -> Dict[str, dict]:
    """Runs ``host``'s backbone test files against hrformer_mm's classes;
    returns per file the counts ``passed``, ``failed``, ``skipped``,
    ``deselected``, the failed tests' ids and ``substituted``: the replaced
    class names the test module holds, each True where it holds ours."""
    root = fetch_host_tests(host, cache)
    ini = osp.join(root, 'pytest.ini')
    if not osp.exists(ini):  # not the project's settings, nor the host's
        with open(ini, 'w') as f:
            f.write('[pytest]\n')
    report = osp.join(root, f'report-{os.getpid()}.json')
    deselect = [f'{f}::{test}' for (h, f, test) in HOST_INTERNAL if h == host]
    cmd = [sys.executable, '-m', 'pytest', '-q', '-c', ini, '--rootdir',
           root, '-p', __name__, '-p', 'no:cacheprovider', '-p',
           'no:randomly', *[a for d in deselect for a in ('--deselect', d)],
           *HOST_TEST_FILES[host]['files']]
    env = dict(os.environ, HRFORMER_MM_HOST_UNDER_TEST=host,
               HRFORMER_MM_HOST_TEST_REPORT=report)
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if not osp.exists(report):
        raise RuntimeError(f'pytest wrote no report for {host} (exit '
                           f'{proc.returncode}):\n{proc.stdout[-3000:]}'
                           f'\n{proc.stderr[-3000:]}')
    with open(report) as f:
        counts = json.load(f)
    os.remove(report)
    for name in HOST_TEST_FILES[host]['files']:
        counts.setdefault(name, _empty_counts())
    if proc.returncode not in (0, 1):  # 1: some failed, counted above
        raise RuntimeError(f'pytest exited with {proc.returncode} for '
                           f'{host}:\n{proc.stdout[-3000:]}')
    return counts


def _empty_counts() -> dict:
    return dict(passed=0, failed=0, skipped=0, deselected=0, failures=[])


# -- the pytest plugin (in the subprocess of run_host_tests) ---------------

_counts: Dict[str, dict] = {}


def _file_of(nodeid: str) -> str:
    return nodeid.split('::', 1)[0]


def pytest_configure(config) -> None:
    host = os.environ.get('HRFORMER_MM_HOST_UNDER_TEST')
    if host is None:
        return
    from mmengine.registry import DefaultScope

    import hrformer_mm.models.backbones as ours
    DefaultScope.get_instance(f'hrformer_mm-host-tests-{host}',
                              scope_name=host)
    registry = importlib.import_module(f'{host}.registry').MODELS
    for name, modules in HOST_TEST_FILES[host]['classes'].items():
        cls = getattr(ours, name)
        for module in modules:
            setattr(importlib.import_module(module), name, cls)
        registry.register_module(name=name, module=cls, force=True)


def pytest_collection_modifyitems(session, config, items) -> None:
    """Records, per test file, which of the replaced classes the test module
    holds and whether each is ours (``substituted``), so a run that tested
    the host's own class shows it."""
    host = os.environ.get('HRFORMER_MM_HOST_UNDER_TEST')
    if host is None:
        return
    import hrformer_mm.models.backbones as ours
    for item in items:
        held = vars(item.module)
        counts = _counts.setdefault(_file_of(item.nodeid), _empty_counts())
        counts['substituted'] = {
            name: held[name] is getattr(ours, name)
            for name in HOST_TEST_FILES[host]['classes'] if name in held}


def pytest_deselected(items) -> None:
    for item in items:
        _counts.setdefault(_file_of(item.nodeid),
                           _empty_counts())['deselected'] += 1


_passed: set = set()


def pytest_runtest_logreport(report) -> None:
    """Counts each test once: failed when any of its phases (setup, call,
    teardown) failed, passed when its call passed and no phase failed."""
    counts = _counts.setdefault(_file_of(report.nodeid), _empty_counts())
    if report.failed:
        if report.nodeid in _passed:  # a teardown failing after the call
            _passed.discard(report.nodeid)
            counts['passed'] -= 1
        if report.nodeid not in counts['failures']:
            counts['failed'] += 1
            counts['failures'].append(report.nodeid)
    elif report.skipped:
        counts['skipped'] += 1
    elif report.when == 'call' and report.nodeid not in counts['failures']:
        counts['passed'] += 1
        _passed.add(report.nodeid)


def pytest_sessionfinish(session) -> None:
    path = os.environ.get('HRFORMER_MM_HOST_TEST_REPORT')
    if path:
        with open(path, 'w') as f:
            json.dump(_counts, f, indent=1)
