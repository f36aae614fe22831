"""Stops that reach every rank: a NaN loss, or an exception raised by a
hook, on rank 1 only stops both ranks in the same iteration with the named
error, long before any collective timeout (2 processes, torchrun, gloo)."""
import time

import pytest

from hrformer_mm.datasets import generate_coco_keypoints

from cluster_utils import POSE_HOOKS, dist_train, fault_config
from e2e_utils import pose_config

pytestmark = pytest.mark.cluster

OPTS = ['--cfg-options', 'train_dataloader.batch_size=2']


@pytest.fixture(scope='module')
def pose_cfg(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('stops')
    generate_coco_keypoints(str(tmp / 'coco'), num_train=8, num_val=2,
                            seed=1)
    return pose_config(tmp, str(tmp / 'coco'), epochs=2)


def _rank_lines(log: str, rank: int, text: str):
    return [ln for ln in log.splitlines()
            if ln.startswith(f'[rank{rank}]:') and text in ln]


@pytest.mark.parametrize('action, error, message', [
    ('nan', 'NonFiniteLossError',
     'non-finite loss at iteration 6 (epoch 2) on rank 1'),
    ('raise', 'RuntimeError', 'injected failure on rank 1'),
])
def test_failure_on_rank_1_stops_both_ranks_in_the_same_iteration(
        tmp_path, pose_cfg, action, error, message):
    cfg = fault_config(pose_cfg, POSE_HOOKS, name=f'fault_{action}',
                       at_iter=6, rank=1, action=action)
    start = time.monotonic()
    # the default gloo timeout is 30 minutes: a hang fails on the timeout
    proc = dist_train(cfg, tmp_path / 'work', *OPTS, check=False,
                      timeout=240)
    elapsed = time.monotonic() - start
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for rank in (0, 1):  # each rank raised the error itself
        lines = _rank_lines(log, rank, f'{error}: ')
        assert lines and message in lines[-1], (rank, log[-4000:])
    if action == 'raise':
        assert _rank_lines(log, 0, 'raised on rank 1')
    # iteration 6 failed before its log line (the logger hook runs after
    # NonFiniteLossHook) and nobody went on; the epoch-1 checkpoint stays
    assert 'Epoch(train) [2][1/4]' in log and '[2][2/4]' not in log
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()
    assert not list((tmp_path / 'work').glob('preempt_*.pth'))
    assert elapsed < 200
