"""tools/run_host_backbone_tests.py: the hosts' own HRNet / HRFormer test
files pass against hrformer_mm's classes, except the tests of host-internal
modules, which are deselected by name."""
import json
import os.path as osp
import re
from importlib.metadata import version

import pytest
from e2e_utils import PYTHON, run

from hrformer_mm import host_tests
from hrformer_mm.host_tests import (HOST_INTERNAL, HOST_TEST_FILES,
                                    FetchError, fetch_host_tests)

TESTS = host_tests.BACKBONE_TESTS
# (passed, failed, deselected) per host file: mmpretrain's arch-zoo test
# runs once per width (w18 ... w64) plus its custom-arch test
EXPECTED = {
    'mmpose': {f'{TESTS}/test_hrnet.py': (1, 0, 1),
               f'{TESTS}/test_hrformer.py': (1, 0, 1)},
    'mmseg': {f'{TESTS}/test_hrnet.py': (1, 0, 2)},
    'mmdet': {f'{TESTS}/test_hrnet.py': (1, 0, 2)},
    'mmpretrain': {f'{TESTS}/test_hrnet.py': (8, 0, 0)},
}


def test_every_deselected_test_names_its_host_file_and_reason():
    for (host, path, test), why in HOST_INTERNAL.items():
        assert path in HOST_TEST_FILES[host]['files']
        assert 'module' in test.lower() and why


def test_cached_files_are_used_without_a_download(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError('fetched although cached')

    monkeypatch.setattr(host_tests, '_from_sdist', no_network)
    monkeypatch.setattr(host_tests, '_from_github', no_network)
    spec = HOST_TEST_FILES['mmseg']
    version = host_tests.installed_version(spec['dist'])
    dest = tmp_path / f"{spec['dist']}-{version}"
    for f in spec['files']:
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        (dest / f).write_text('')
    assert fetch_host_tests('mmseg', str(tmp_path)) == str(dest)


def test_unreachable_sources_say_where_to_put_the_files(tmp_path,
                                                        monkeypatch):
    monkeypatch.setattr(host_tests, '_from_sdist', lambda *a: [])
    monkeypatch.setattr(host_tests, '_from_github', lambda *a: False)
    tag = re.escape(f"v{version('mmpose')}")
    with pytest.raises(FetchError, match=r'github.com/open-mmlab/mmpose '
                       rf'\(tag {tag}\); put them under'):
        fetch_host_tests('mmpose', str(tmp_path))


def _how_to_provide(host, error):
    """Where a machine without GitHub access gets the host's test files:
    their upstream code is not part of this repository."""
    spec = HOST_TEST_FILES[host]
    tag = f"v{version(spec['dist'])}"
    dest = osp.join(host_tests.default_cache(), f"{spec['dist']}-{tag[1:]}")
    steps = '; '.join(
        f'https://raw.githubusercontent.com/{spec["repo"]}/{tag}/{f} '
        f'-> {dest}/{f}' for f in spec['files'])
    return (f'{error}. To run this test, download each file to the path '
            f'after the arrow ({steps}), or run `python '
            f'tools/run_host_backbone_tests.py --hosts {host}` once on a '
            'machine that reaches GitHub and copy its '
            f'{osp.dirname(dest)} folder here')


@pytest.mark.e2e
@pytest.mark.parametrize('host', sorted(EXPECTED))
def test_hosts_backbone_tests_pass_against_ours(host, tmp_path):
    try:
        fetch_host_tests(host)
    except FetchError as e:
        pytest.skip(_how_to_provide(host, e))
    out = tmp_path / 'counts.json'
    run([PYTHON, 'tools/run_host_backbone_tests.py', '--hosts', host,
         '--json', str(out)], timeout=1800)
    counts = json.loads(out.read_text())[host]
    got = {path: (c['passed'], c['failed'], c['deselected'])
           for path, c in counts.items()}
    assert got == EXPECTED[host]
    for path, c in counts.items():
        # the test modules hold our classes, not the host's
        assert c['substituted'] and all(c['substituted'].values()), path


def _report(nodeid, when, outcome):
    from types import SimpleNamespace
    return SimpleNamespace(nodeid=nodeid, when=when,
                           failed=outcome == 'failed',
                           skipped=outcome == 'skipped')


def test_a_test_failing_in_teardown_counts_as_failed_only(monkeypatch):
    monkeypatch.setattr(host_tests, '_counts', {})
    monkeypatch.setattr(host_tests, '_passed', set(), raising=False)
    for nodeid, outcomes in (('t.py::a', ('passed', 'passed', 'failed')),
                             ('t.py::b', ('failed', 'failed')),
                             ('t.py::c', ('passed', 'passed', 'passed'))):
        for when, outcome in zip(('setup', 'call', 'teardown'), outcomes):
            host_tests.pytest_runtest_logreport(
                _report(nodeid, when, outcome))
    c = host_tests._counts['t.py']
    assert (c['passed'], c['failed']) == (1, 2)
    assert c['failures'] == ['t.py::a', 't.py::b']


def test_a_module_holding_the_hosts_class_fails_the_tool(monkeypatch,
                                                         capsys):
    from e2e_utils import load_tool
    tool = load_tool('run_host_backbone_tests.py')
    counts = dict(passed=1, failed=0, skipped=0, deselected=0, failures=[],
                  substituted={'HRNet': True})
    monkeypatch.setattr(tool, 'run_host_tests',
                        lambda host, cache: {f'{TESTS}/test_hrnet.py':
                                             dict(counts)})
    assert tool.main(['--hosts', 'mmseg']) == 0
    counts['substituted'] = {'HRNet': False}
    assert tool.main(['--hosts', 'mmseg']) == 1
    out = capsys.readouterr().out
    assert f'NOT SUBSTITUTED mmseg {TESTS}/test_hrnet.py' in out
    assert "host's HRNet" in out
