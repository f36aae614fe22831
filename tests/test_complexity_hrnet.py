"""tools/analysis/complexity.py covers the HRNet / HRNetV2 configs, the
detector included (backbone + neck + RPN: its RoI head needs compiled
ops)."""
import os.path as osp
import sys

import pytest

from e2e_utils import ROOT

sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
from complexity import config_complexity  # noqa: E402


def test_hrnet_w32_pose_matches_the_paper():
    """Sun et al. 2019, Table 1: HRNet-W32 256x192, 28.5M params, 7.1
    GFLOPs.  Conv MACs count 7.65 here (the paper's tool left some layers
    out); within 8%."""
    r = config_complexity(osp.join(ROOT, 'configs/pose/hrnet_w32_coco.py'))
    assert r['shape'] == [256, 192] and r['counted'] == 'whole model'
    assert r['params_m'] == pytest.approx(28.5, rel=0.01)
    assert r['gflops_paper'] == pytest.approx(7.65, rel=0.01)
    assert r['gflops_paper'] == pytest.approx(7.1, rel=0.08)
    # no attention: both conventions agree
    assert r['gflops_complete'] == r['gflops_paper']


def test_detector_counts_backbone_neck_and_rpn():
    path = osp.join(ROOT, 'configs/det/hrnetv2p_w32_faster_rcnn_coco.py')
    small = config_complexity(path, shape=(64, 96))
    assert small['counted'] == 'backbone + neck + RPN head'
    twice = config_complexity(path, shape=(128, 192))
    # convolutions only: MACs scale with the pixel count
    assert twice['gflops_paper'] == pytest.approx(4 * small['gflops_paper'],
                                                  rel=0.02)
