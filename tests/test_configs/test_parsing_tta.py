"""The parsing (LIP) configs' flip test runs at the size the config tests
at: the Resize of tta_pipeline is test_pipeline's."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from e2e_utils import ROOT

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'seg', '*_lip.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_tta_resizes_as_the_test_pipeline(path):
    cfg = Config.fromfile(path)
    (test_resize, ) = [t for t in cfg.test_pipeline if t.type == 'Resize']
    (tta_resize, ) = [t for step in cfg.tta_pipeline[1].transforms
                      for t in step if t.type == 'Resize']
    assert tuple(tta_resize.scale) == tuple(test_resize.scale) == \
        tuple(cfg.crop_size)
    assert not tta_resize.keep_ratio


def test_both_lip_configs_are_checked():
    assert {osp.basename(p) for p in CONFIGS} >= {
        'hrnetv2_w48_fcn_lip.py', 'hrnetv2_demo_lip.py'}
