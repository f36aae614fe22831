"""Parameters and GFLOPs against the HRFormer paper's tables, in both
counting conventions."""
import os.path as osp
import sys

import pytest
import torch
import torch.nn as nn

from hrformer_mm.analysis import count_complexity
from hrformer_mm.models.layers import LocalWindowAttention

from e2e_utils import ROOT

sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
from complexity import config_complexity  # noqa: E402


def assert_metafile_holds(config, r):
    """The metafile entry's Parameters / FLOPs are this CPU run's counts,
    exactly (the generator, tools/zoo.py, counts the same forward on the
    meta device)."""
    from hrformer_mm import zoo
    (md, ) = [m['Metadata'] for m in zoo.all_models(ROOT)
              if m['Config'] == config]
    assert md['Parameters'] == round(r['params_m'] * 1e6)
    assert md['FLOPs'] == round(r['gflops_paper'] * 1e9)
    assert md['FLOPs (complete)'] == round(r['gflops_complete'] * 1e9)
    assert md['Input Size'] == '%dx%d' % tuple(r['shape'])


@pytest.mark.parametrize('config,paper_gflops,paper_params', [
    ('hrformer_t_coco.py', 1.3, 2.5),
    ('hrformer_s_coco.py', 2.8, 7.8),
    ('hrformer_b_coco.py', 12.2, 43.2),
    ('hrformer_s_coco_384x288.py', 6.2, 7.8),
    ('hrformer_b_coco_384x288.py', 26.8, 43.2),
])
def test_pose_configs_match_the_paper_within_2_percent(config, paper_gflops,
                                                       paper_params):
    r = config_complexity(osp.join(ROOT, 'configs', 'pose', config))
    assert_metafile_holds(f'configs/pose/{config}', r)
    assert r['gflops_paper'] == pytest.approx(paper_gflops, rel=0.02)
    assert r['params_m'] == pytest.approx(paper_params, rel=0.02)
    assert r['gflops_complete'] > r['gflops_paper']


@pytest.mark.parametrize('config,complete', [('hrformer_s_coco.py', 3.24),
                                             ('hrformer_b_coco.py', 13.9)])
def test_complete_count_includes_padding_and_attention(config, complete):
    r = config_complexity(osp.join(ROOT, 'configs', 'pose', config))
    assert r['gflops_complete'] == pytest.approx(complete, rel=0.03)


def test_linear_counts_exact_for_a_toy_model():
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    x = torch.zeros(3, 4)
    r = count_complexity(model, lambda: model(x))
    assert r.paper_macs == r.complete_macs == 3 * (4 * 8 + 8 * 2)
    assert r.params == 4 * 8 + 8 + 8 * 2 + 2


def test_window_attention_counts_padding_and_products_separately():
    # 5x5 map, 7x7 window: one padded window of 49 tokens, 25 real ones
    m = LocalWindowAttention(8, 2, window_size=7)
    x = torch.zeros(1, 5, 5, 8)
    r = count_complexity(m, lambda: m(x))
    linear = 8 * 24 + 8 * 8  # qkv + proj, per token
    assert r.paper_macs == 25 * linear
    assert r.complete_macs == 49 * linear + 2 * 49 * 49 * 8
