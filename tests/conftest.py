import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)


@pytest.fixture(scope='session')
def repo_root():
    return ROOT
