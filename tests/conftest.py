import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)

E2E_DIR = os.path.join(ROOT, 'tests', 'test_e2e') + os.sep


def _read_host_metafiles_once():
    """mmengine resolves each ``mmpose::`` / ``mmseg::`` / ``mmdet::`` /
    ``mmpretrain::`` base by parsing every metafile of the host again (its
    ``.mim/model-index.yml`` and about a hundred YAML files, a third of a
    second) before it looks in the host's config folder.  The suite loads
    hundreds of configs that inherit the hosts' recipes, many of them to
    parametrize tests at collection; the installed hosts do not change
    during a session, so each file is parsed once (mmengine only reads what
    it parsed).  The lookup, and the ``ValueError`` that sends mmengine on
    to the config folder, stay mmengine's own."""
    import functools

    from mmengine.config import utils

    utils.load = functools.lru_cache(maxsize=None)(utils.load)


_read_host_metafiles_once()


def pytest_collection_modifyitems(config, items):
    """``e2e`` on every test under tests/test_e2e/ and on every ``cluster``
    test (each runs training or testing in subprocesses); tests elsewhere
    that do carry the marker where they are defined.  ``slow`` (what the
    quick loop, ``-m "not slow"``, leaves to CI) on every ``e2e`` test."""
    for item in items:
        if str(item.fspath).startswith(E2E_DIR) or \
                item.get_closest_marker('cluster') is not None:
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker('e2e') is not None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def no_network_hub(monkeypatch, tmp_path):
    """An empty torch hub cache under ``tmp_path`` (its path returned) and
    no network: every socket connection fails as an unknown host does."""
    import socket

    import torch
    hub = str(tmp_path / 'hub')
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: hub)

    def refuse(self, address):
        raise OSError(-2, 'Name or service not known')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    return hub


@pytest.fixture(scope='session')
def repo_root():
    return ROOT
