"""tools/slurm_train.sh without Slurm: stub ``srun`` / ``scontrol`` on PATH
record what the script asks for; in ``run`` mode the stub srun runs the
training command itself (one process, --launcher none), so a SIGUSR1
mid-epoch, the requeue and the restart's resume are checked end to end."""
import os
import stat

import pytest

from hrformer_mm.datasets import generate_coco_keypoints
from hrformer_mm.engine import PREEMPTED_EXIT_CODE

from cluster_utils import (HELPERS, POSE_HOOKS, assert_same_training_state,
                           fault_config)
from e2e_utils import PYTHON, pose_config, pythonpath, run

pytestmark = pytest.mark.cluster

SRUN = r"""#!/usr/bin/env bash
printf '%s\n' "$@" > "$STUB_LOG/srun.args"
echo "${SLURM_RESTART_COUNT:-}" > "$STUB_LOG/srun.restart"
if [ "${STUB_SRUN_MODE:-record}" = record ]; then exit "${STUB_SRUN_RC:-0}"; fi
# run mode: drop srun's own options, run the command as one process
cmd=()
while [ $# -gt 0 ]; do
  case "$1" in
    -p) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
for a in "$@"; do
  if [ "$a" = slurm ] && [ "${cmd[-1]}" = --launcher ]; then a=none; fi
  cmd+=("$a")
done
exec "${cmd[@]}"
"""
SCONTROL = r"""#!/usr/bin/env bash
printf '%s\n' "$@" >> "$STUB_LOG/scontrol.args"
"""


@pytest.fixture
def stubs(tmp_path):
    bin_dir, log = tmp_path / 'bin', tmp_path / 'log'
    bin_dir.mkdir()
    log.mkdir()
    for name, text in (('srun', SRUN), ('scontrol', SCONTROL)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    env = dict(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
               STUB_LOG=str(log), PYTHON=PYTHON)
    for k in ('SLURM_JOB_ID', 'SLURM_RESTART_COUNT'):
        env[k] = ''
    return env, log


def _slurm(env, *args, **extra):
    return run(['bash', 'tools/slurm_train.sh', 'gpu', 'job', *args],
               env=dict(env, **extra), check=False, timeout=300)


def _srun_args(log):
    return (log / 'srun.args').read_text().splitlines()


def test_requests_the_early_signal_and_passes_the_options(stubs):
    env, log = stubs
    proc = _slurm(env, 'cfg.py', '--work-dir', 'w', GPUS='16')
    assert proc.returncode == 0
    args = _srun_args(log)
    for flag in ('--signal=USR1@120', '--kill-on-bad-exit=1',
                 '--ntasks=16', '--ntasks-per-node=8'):
        assert flag in args
    i = args.index('cfg.py')
    assert args[i + 1:] == ['--launcher', 'slurm', '--work-dir', 'w']
    assert not (log / 'scontrol.args').exists()
    proc = _slurm(env, 'cfg.py', SIGNAL_SECS='300')
    assert '--signal=USR1@300' in _srun_args(log)


@pytest.mark.parametrize('job_id, rc, requeued', [
    ('42', PREEMPTED_EXIT_CODE, True),   # preempted batch job: requeue
    ('', PREEMPTED_EXIT_CODE, False),    # no batch job to requeue
    ('42', 1, False),                    # a crash is not requeued
])
def test_requeues_only_a_preempted_batch_job(stubs, job_id, rc, requeued):
    env, log = stubs
    proc = _slurm(env, 'cfg.py', SLURM_JOB_ID=job_id, STUB_SRUN_RC=str(rc))
    assert proc.returncode == rc
    scontrol = log / 'scontrol.args'
    if requeued:
        assert scontrol.read_text().split() == ['requeue', '42']
    else:
        assert not scontrol.exists()
    if rc == PREEMPTED_EXIT_CODE and not requeued:
        assert 'with --resume' in proc.stdout


def test_a_restarted_job_resumes(stubs):
    env, log = stubs
    _slurm(env, 'cfg.py', '--resume', 'old.pth', SLURM_JOB_ID='42',
           SLURM_RESTART_COUNT='1')
    args = _srun_args(log)
    # the last --resume wins: the newest checkpoint, not the old one
    assert args[-1] == '--resume' and args[-3:-1] == ['--resume', 'old.pth']


def test_sigusr1_requeue_and_restart_end_as_the_uninterrupted_run(
        stubs, tmp_path):
    env, log = stubs
    generate_coco_keypoints(str(tmp_path / 'coco'), num_train=4, num_val=2,
                            seed=1)
    cfg = pose_config(tmp_path, str(tmp_path / 'coco'), epochs=2)
    opts = ['--cfg-options', 'train_dataloader.batch_size=2']
    run([PYTHON, 'tools/train.py', cfg, '--work-dir',
         str(tmp_path / 'full'), *opts])
    faulty = fault_config(cfg, POSE_HOOKS, at_iter=3, action='signal',
                          signame='SIGUSR1')
    env = dict(env, STUB_SRUN_MODE='run', SLURM_JOB_ID='42',
               PYTHONPATH=pythonpath(HELPERS))
    work = str(tmp_path / 'work')
    first = _slurm(env, faulty, '--work-dir', work, *opts)
    assert first.returncode == PREEMPTED_EXIT_CODE, first.stderr[-3000:]
    assert (log / 'scontrol.args').read_text().split() == ['requeue', '42']
    assert os.path.isfile(os.path.join(work, 'preempt_iter_3.pth'))
    # Slurm starts the requeued job again with SLURM_RESTART_COUNT=1
    second = _slurm(env, faulty, '--work-dir', work, *opts,
                    SLURM_RESTART_COUNT='1')
    assert second.returncode == 0, second.stderr[-3000:]
    assert _srun_args(log)[-1] == '--resume'
    assert 'resuming epoch' in second.stdout + second.stderr
    assert_same_training_state(tmp_path / 'full' / 'epoch_2.pth',
                               os.path.join(work, 'epoch_2.pth'))
