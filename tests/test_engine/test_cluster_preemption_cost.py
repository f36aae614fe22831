"""tools/analysis/preemption_cost.py (hrformer_mm.analysis.preemption_cost)
on the micro pose config: SIGTERM after two iterations, the run exits with
75 and the report splits the time and names the checkpoint it measured."""
import os.path as osp
import re

import pytest

from hrformer_mm.analysis.preemption_cost import measure

from e2e_utils import PYTHON, ROOT, pose_config, run

pytestmark = pytest.mark.cluster


def test_preemption_cost_report(tmp_path):
    cfg = pose_config(tmp_path, str(tmp_path / 'unused'), epochs=50)
    r = measure(cfg, str(tmp_path / 'cost'), iters=2, num_train=16,
                timeout=300)
    assert r['exit_status'] == 75
    assert re.fullmatch(r'preempt_iter_\d+\.pth', r['checkpoint'])
    ckpt = tmp_path / 'cost' / 'work' / r['checkpoint']
    assert r['checkpoint_bytes'] == osp.getsize(ckpt) > 0
    # the iteration the signal landed in, or a later one
    assert int(r['checkpoint'][13:-4]) >= 3
    parts = ('finish_s', 'write_s', 'teardown_s')
    assert all(r[k] >= 0 for k in parts)
    assert abs(sum(r[k] for k in parts) - r['signal_to_exit_s']) < 1e-6
    assert r['unwind_s'] + r['threads_s'] + r['atexit_s'] + \
        r['finalize_s'] == pytest.approx(r['teardown_s'], abs=1e-3)
    assert r['all_exited_s'] >= r['signal_to_exit_s'] - 0.5


def test_preemption_cost_command_line():
    proc = run([PYTHON, osp.join(ROOT, 'tools', 'analysis',
                                 'preemption_cost.py'), '--help'])
    assert 'SIGTERM' in proc.stdout and '--iters' in proc.stdout
