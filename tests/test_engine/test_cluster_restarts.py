"""Elastic restarts: tools/dist_train.sh passes MAX_RESTARTS to torchrun;
when a worker dies mid-epoch (MAX_RESTARTS=2), torchrun restarts the group, the workers
resume from the newest complete checkpoint on their own, and the run ends
as an uninterrupted one (2 processes, gloo, CPU)."""
import pytest

from hrformer_mm.datasets import generate_coco_keypoints

from cluster_utils import (POSE_HOOKS, assert_same_training_state,
                           dist_train, fault_config)
from e2e_utils import pose_config

pytestmark = pytest.mark.cluster

OPTS = ['--cfg-options', 'train_dataloader.batch_size=2']


@pytest.mark.skip(reason='flaky: in about one run in three on the 2-core VM '
                  "the restarted group's gloo connectFullMesh is refused "
                  '(static rendezvous) or the restart hangs (c10d); open in '
                  'issue 21; remove this mark to run it.')
def test_killed_worker_is_restarted_and_the_run_resumes(tmp_path):
    generate_coco_keypoints(str(tmp_path / 'coco'), num_train=8,
                            num_val=2, seed=1)
    cfg = pose_config(tmp_path, str(tmp_path / 'coco'), epochs=2)
    dist_train(cfg, tmp_path / 'full', *OPTS)
    # rank 1 dies (os._exit) in iteration 6, epoch 2; only the first time
    faulty = fault_config(cfg, POSE_HOOKS, at_iter=6, rank=1,
                          action='exit', once_file=str(tmp_path / 'died'))
    work = tmp_path / 'work'
    # 2, not 1: once in a few runs on the loaded 2-core VM, the restarted
    # group's gloo connectFullMesh was refused and used a restart up
    proc = dist_train(faulty, work, *OPTS, env=dict(MAX_RESTARTS='2'))
    log = proc.stdout + proc.stderr
    assert (tmp_path / 'died').exists()
    assert 'torchrun restart 1: resuming' in log
    assert f'Load checkpoint from {work}/epoch_1.pth' in log or \
        'resumed epoch: 1' in log, log[-3000:]
    assert_same_training_state(tmp_path / 'full' / 'epoch_2.pth',
                               work / 'epoch_2.pth')


def test_without_restarts_a_killed_worker_fails_the_run(tmp_path):
    generate_coco_keypoints(str(tmp_path / 'coco'), num_train=8,
                            num_val=2, seed=1)
    cfg = pose_config(tmp_path, str(tmp_path / 'coco'), epochs=1)
    faulty = fault_config(cfg, POSE_HOOKS, at_iter=2, rank=1,
                          action='exit')
    proc = dist_train(faulty, tmp_path / 'work', *OPTS, check=False,
                      timeout=240)
    assert proc.returncode != 0
    assert 'exitcode  : 9' in proc.stdout + proc.stderr
