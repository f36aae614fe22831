"""Elastic restarts: tools/dist_train.sh passes MAX_RESTARTS to torchrun;
when a worker dies mid-epoch (MAX_RESTARTS=1), torchrun restarts the
group, the workers resume from the newest complete checkpoint on their
own, and the run ends as an uninterrupted one (2 processes, gloo, CPU)."""
import datetime
import os.path as osp

import pytest
import torch.distributed as dist

from hrformer_mm.datasets import generate_coco_keypoints
from hrformer_mm.engine.launch import init_distributed, restart_round_store

from cluster_utils import (HELPERS, POSE_HOOKS, assert_same_training_state,
                           dist_train, fault_config, free_port)
from e2e_utils import PYTHON, pose_config, run

pytestmark = pytest.mark.cluster

OPTS = ['--cfg-options', 'train_dataloader.batch_size=2']


def test_outside_torchrun_the_process_group_is_left_to_mmengine(
        monkeypatch):
    monkeypatch.delenv('TORCHELASTIC_USE_AGENT_STORE', raising=False)
    assert restart_round_store(datetime.timedelta(seconds=1)) is None
    assert init_distributed('nccl') is False  # mmengine's init_dist then
    assert not dist.is_initialized()


def test_restarted_group_does_not_read_the_dead_groups_keys(tmp_path):
    """torchrun keeps its store, keys included, across restart rounds; the
    restarted rank 0 must wait for the new rank 1's address, not connect to
    the dead one's (gloo: 'Connection refused' in connectFullMesh)."""
    proc = run([PYTHON, '-m', 'torch.distributed.run', '--nnodes=1',
                '--nproc_per_node=2', '--node_rank=0',
                '--master_addr=127.0.0.1', f'--master_port={free_port()}',
                '--max-restarts=1',
                osp.join(HELPERS, 'restart_round_worker.py')],
               env=dict(READY_FILE=str(tmp_path / 'ready')), check=False,
               timeout=180)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    for rnd in (0, 1):
        for rank in (0, 1):
            assert f'round {rnd} rank {rank}: all_reduce 2' in log, log[-3000:]
    assert 'Connection refused' not in log


def test_killed_worker_is_restarted_and_the_run_resumes(tmp_path):
    generate_coco_keypoints(str(tmp_path / 'coco'), num_train=8,
                            num_val=2, seed=1)
    cfg = pose_config(tmp_path, str(tmp_path / 'coco'), epochs=2)
    dist_train(cfg, tmp_path / 'full', *OPTS)
    # rank 1 dies (os._exit) in iteration 6, epoch 2; only the first time
    faulty = fault_config(cfg, POSE_HOOKS, at_iter=6, rank=1,
                          action='exit', once_file=str(tmp_path / 'died'))
    work = tmp_path / 'work'
    # 1: the one restart must succeed (a restarted group that cannot
    # connect would use up a second one)
    proc = dist_train(faulty, work, *OPTS, env=dict(MAX_RESTARTS='1'))
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
