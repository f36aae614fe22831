"""The stop signal sent to the whole process group (Slurm's ``--signal``,
``kill -- -PGID``), dataloader workers included: one process, 2 persistent
workers.  The run still finishes its iteration, writes the preemption
checkpoint and exits with status 75, no worker outlives it, and
``--resume`` ends bit-identical to an uninterrupted run, random
augmentation included: pose (epoch-based) and seg (iteration-based:
mmengine starts its workers before the loop runs, so they need the same
treatment)."""
import signal

import pytest

from hrformer_mm.engine import PREEMPTED_EXIT_CODE

from cluster_utils import (assert_same_training_state, load,
                           train_then_signal_group)
from e2e_utils import (PYTHON, ade_data, coco_data, pose_config, run,
                       seg_config)

pytestmark = pytest.mark.cluster

# 13 people, batch 2: 7 iterations an epoch, 14 in all.  The demo's
# pipeline: random flip, half-body, box transform (scale, shift, rotation).
WORKERS = """
train_dataloader.update(batch_size=2, num_workers=2, persistent_workers=True)
"""


@pytest.fixture(scope='module')
def pose_run(tmp_path_factory):
    """The config and the uninterrupted run's final checkpoint."""
    root = tmp_path_factory.mktemp('group')
    coco_root = coco_data(tmp_path_factory, num_val=1)
    cfg = pose_config(root, coco_root, epochs=2, extra=WORKERS)
    run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(root / 'full')])
    return cfg, root / 'full' / 'epoch_2.pth'


@pytest.mark.parametrize('signame', ['SIGTERM', 'SIGUSR1'])
def test_signal_to_process_group_then_resume_matches_uninterrupted(
        tmp_path, pose_run, signame):
    cfg, full = pose_run
    work = tmp_path / 'cut'
    code, log, left = train_then_signal_group(
        cfg, work, getattr(signal, signame), 'Epoch(train) [1][3/7]')
    assert 'DataLoader worker' not in log, log[-3000:]
    assert code == PREEMPTED_EXIT_CODE, log[-3000:]
    assert f'{signame} received' in log
    assert not left, f'processes of the group left after the exit: {left}'
    ckpts = sorted(work.glob('preempt_iter_*.pth'))
    assert len(ckpts) == 1, ckpts
    assert (work / 'last_checkpoint').read_text().strip() == str(ckpts[0])
    state = load(ckpts[0])
    assert state['meta']['preempted'] == signame
    n = state['meta']['iter']
    assert ckpts[0].name == f'preempt_iter_{n}.pth' and 3 <= n < 14
    assert not (work / 'epoch_2.pth').exists()

    log = run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(work),
               '--resume']).stdout
    assert 'Epoch(train) [2][7/7]' in log
    assert_same_training_state(full, work / 'epoch_2.pth')


SEG_WORKERS = """
train_dataloader.update(num_workers=2, persistent_workers=True)
val_dataloader.update(num_workers=2, persistent_workers=True)
"""


@pytest.fixture(scope='module')
def seg_run(tmp_path_factory):
    """The config (random resize, crop, flip and photometric distortion,
    2 persistent workers) and the uninterrupted run's final checkpoint."""
    root = tmp_path_factory.mktemp('seg_group')
    cfg = seg_config(root, ade_data(tmp_path_factory, num_val=1), iters=8)
    with open(cfg, 'a') as f:
        f.write(SEG_WORKERS)
    run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(root / 'full')])
    return cfg, root / 'full' / 'iter_8.pth'


@pytest.mark.parametrize('signame', ['SIGUSR1', 'SIGTERM'])
def test_signal_to_process_group_iteration_based(tmp_path, seg_run,
                                                 signame):
    cfg, full = seg_run
    work = tmp_path / 'cut'
    code, log, left = train_then_signal_group(
        cfg, work, getattr(signal, signame), 'Iter(train) [2/8]')
    assert 'DataLoader worker' not in log, log[-3000:]
    assert code == PREEMPTED_EXIT_CODE, log[-3000:]
    assert not left, f'processes of the group left after the exit: {left}'
    ckpts = list(work.glob('preempt_iter_*.pth'))
    assert len(ckpts) == 1 and not (work / 'iter_8.pth').exists(), ckpts
    n = load(ckpts[0])['meta']['iter']
    assert 2 <= n < 8

    log = run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(work),
               '--resume']).stdout
    assert f'resuming at iteration {n + 1}' in log
    assert_same_training_state(full, work / 'iter_8.pth')
