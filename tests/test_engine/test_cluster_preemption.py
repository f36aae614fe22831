"""Preemption: a stop signal on one rank mid-epoch (or mid-run) makes both
ranks finish the iteration, write one exact checkpoint and exit with
status 75; --resume then ends bit-identical to an uninterrupted run, for
the epoch-based pose demo config and the iteration-based seg demo config
(2 processes, torchrun, gloo, CPU)."""
import pytest

from hrformer_mm.engine import PREEMPTED_EXIT_CODE

from cluster_utils import (POSE_HOOKS, SEG_HOOKS, assert_same_training_state,
                           dist_train, fault_config, load)
from e2e_utils import ade_data, coco_data, pose_config, seg_config

pytestmark = pytest.mark.cluster

# 13 people, 2 ranks x 2 per batch: 4 iterations an epoch
POSE_OPTS = ['--cfg-options', 'train_dataloader.batch_size=2']


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    return coco_data(tmp_path_factory, num_val=2)


@pytest.fixture(scope='module')
def ade_root(tmp_path_factory):
    return ade_data(tmp_path_factory, num_val=1)


def _log(proc) -> str:
    return proc.stdout + proc.stderr


def test_sigterm_mid_epoch_then_resume_matches_uninterrupted_pose(
        tmp_path, coco_root):
    cfg = pose_config(tmp_path, coco_root, epochs=2)
    dist_train(cfg, tmp_path / 'full', *POSE_OPTS)

    # SIGTERM reaches rank 1 only, during iteration 6 (epoch 2, batch 2)
    faulty = fault_config(cfg, POSE_HOOKS, at_iter=6, rank=1,
                          action='signal', signame='SIGTERM')
    work = tmp_path / 'cut'
    proc = dist_train(faulty, work, *POSE_OPTS, check=False)
    log = _log(proc)
    assert proc.returncode != 0
    assert f'exitcode  : {PREEMPTED_EXIT_CODE}' in log, log[-3000:]
    assert 'Epoch(train) [2][2/4]' in log and '[2][3/4]' not in log
    ckpt = work / 'preempt_iter_6.pth'
    assert ckpt.is_file() and not (work / 'epoch_2.pth').exists()
    assert (work / 'last_checkpoint').read_text().strip() == str(ckpt)
    state = load(ckpt)
    assert (state['meta']['epoch'], state['meta']['iter']) == (1, 6)
    assert state['meta']['preempted'] in ('SIGTERM',
                                          "a peer rank's stop signal")
    hub = state['message_hub']['runtime_info']
    assert hub['hrformer_inner_iter'] == 2
    assert len(state['rng_states']) == 2
    assert {'optimizer', 'param_schedulers'} <= state.keys()

    proc = dist_train(cfg, work, '--resume', *POSE_OPTS)
    log = _log(proc)
    assert 'resuming epoch 2 at batch 3' in log
    assert 'Epoch(train) [2][3/4]' in log and '[2][2/4]' not in log
    assert_same_training_state(tmp_path / 'full' / 'epoch_2.pth',
                               work / 'epoch_2.pth')


def test_sigusr1_mid_run_then_resume_matches_uninterrupted_seg(
        tmp_path, ade_root):
    cfg = seg_config(tmp_path, ade_root, iters=6)
    dist_train(cfg, tmp_path / 'full')

    faulty = fault_config(cfg, SEG_HOOKS, at_iter=3, rank=0,
                          action='signal', signame='SIGUSR1')
    work = tmp_path / 'cut'
    proc = dist_train(faulty, work, check=False)
    log = _log(proc)
    assert f'exitcode  : {PREEMPTED_EXIT_CODE}' in log, log[-3000:]
    ckpt = work / 'preempt_iter_3.pth'
    assert ckpt.is_file() and not (work / 'iter_6.pth').exists()
    state = load(ckpt)
    assert state['meta']['iter'] == 3

    proc = dist_train(cfg, work, '--resume')
    log = _log(proc)
    assert 'resuming at iteration 4' in log
    assert 'Advance dataloader' not in log  # nothing re-read
    assert_same_training_state(tmp_path / 'full' / 'iter_6.pth',
                               work / 'iter_6.pth')
