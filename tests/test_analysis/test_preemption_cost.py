"""hrformer_mm.analysis.preemption_cost without a training (the run itself
is tested in tests/test_engine/test_cluster_preemption_cost.py)."""
import os.path as osp
import subprocess

import pytest

from hrformer_mm.analysis.preemption_cost import measure

from e2e_utils import ROOT


def test_relative_work_dir_gives_the_run_absolute_paths(tmp_path,
                                                        monkeypatch):
    """The training runs with its cwd in the work dir, so the config and
    work dir it is given must not be relative to the caller's cwd."""
    seen = {}

    def popen(cmd, cwd=None, **kwargs):
        seen.update(cmd=cmd, cwd=cwd)
        raise RuntimeError('not started')

    monkeypatch.setattr(subprocess, 'Popen', popen)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match='not started'):
        measure(osp.join(ROOT, 'configs', 'pose', 'hrvit_b1_coco.py'),
                'rel', num_train=2)
    cfg, work = seen['cmd'][4], seen['cmd'][6]
    assert seen['cwd'] == str(tmp_path / 'rel')
    assert osp.isabs(cfg) and osp.isfile(cfg)
    assert work == str(tmp_path / 'rel' / 'work')
