"""Helpers of the cluster tests (tests/test_engine/test_cluster_*.py): 2-process
torchrun runs through tools/dist_train.sh, configs with injected faults
(tests/helpers/cluster_faults.py), checkpoint comparison."""
import os
import os.path as osp
import signal
import socket
import subprocess
import threading
import time

import torch

from e2e_utils import PYTHON, ROOT, pythonpath, run

HELPERS = osp.join(ROOT, 'tests', 'helpers')
# the hooks of the runtime bases, which a config's custom_hooks replaces
POSE_HOOKS = ("dict(type='SyncBuffersHook'), "
              "dict(type='hrformer_mm.RNGStateHook')")
SEG_HOOKS = "dict(type='hrformer_mm.RNGStateHook')"


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def fault_config(base: str, hooks: str, name='faulty', **fault) -> str:
    """``base`` plus a FaultInjectionHook(**fault)."""
    path = osp.join(osp.dirname(base), f'{name}.py')
    args = ', '.join(f'{k}={v!r}' for k, v in fault.items())
    with open(path, 'w') as f:
        f.write(f"""
_base_ = ['{base}']
custom_imports = dict(imports=['hrformer_mm', 'cluster_faults'],
                      allow_failed_imports=False)
custom_hooks = [{hooks},
                dict(type='hrformer_mm.FaultInjectionHook', {args})]
""")
    return path


def dist_train(cfg, work, *opts, gpus=2, check=True, env=None,
               timeout=300):
    """tools/dist_train.sh CONFIG GPUS --work-dir WORK OPTS (CPU, gloo)."""
    full_env = dict(PYTHON=PYTHON, PORT=free_port(),
                    PYTHONPATH=pythonpath(HELPERS))
    full_env.update(env or {})
    return run(['bash', 'tools/dist_train.sh', cfg, str(gpus),
                '--work-dir', str(work), *opts], env=full_env,
               check=check, timeout=timeout)


def load(path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=False)


def assert_same_training_state(a_path, b_path) -> None:
    """Weights, buffers and optimizer state bit-identical."""
    a, b = load(a_path), load(b_path)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for k in a['state_dict']:
        assert torch.equal(a['state_dict'][k], b['state_dict'][k]), k
    sa, sb = a['optimizer']['state'], b['optimizer']['state']
    assert sa.keys() == sb.keys() and sa
    for i in sa:
        for k, v in sa[i].items():
            if torch.is_tensor(v):
                assert torch.equal(v, sb[i][k]), (i, k)
    assert a['meta']['iter'] == b['meta']['iter']
    assert a['meta']['epoch'] == b['meta']['epoch']



def group_members(pgid: int) -> list:
    """The live (not zombie) processes of process group ``pgid``, from
    /proc: ``(pid, command)`` pairs."""
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/stat') as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        comm = stat[stat.index('(') + 1:stat.rindex(')')]
        state, _ppid, pgrp = stat[stat.rindex(')') + 2:].split()[:3]
        if int(pgrp) == pgid and state != 'Z':
            found.append((int(pid), comm))
    return found


def train_then_signal_group(cfg, work, signum, when: str, *opts,
                            timeout=300):
    """``tools/train.py CONFIG --work-dir WORK OPTS`` in a process group of
    its own (``start_new_session``); once a line of its output contains
    ``when``, ``signum`` goes to the whole group (``os.killpg``): the main
    process and its dataloader workers, as Slurm's ``--signal`` and
    ``kill -- -PGID`` deliver it.  Returns ``(exit status, output, group)``:
    ``group`` lists the processes of the group still alive 10 s after the
    main process exited (then killed)."""
    env = dict(os.environ, PYTHONPATH=pythonpath(), OMP_NUM_THREADS='1',
               CUDA_VISIBLE_DEVICES='')
    proc = subprocess.Popen(
        [PYTHON, 'tools/train.py', str(cfg), '--work-dir', str(work), *opts],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    lines, seen = [], threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if when in line:
                seen.set()
        seen.set()  # the output ended (the run is over or failed)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    left = []
    try:
        assert seen.wait(timeout), f'no {when!r} in {timeout} s'
        assert proc.poll() is None, \
            f'the run ended before {when!r}:\n{"".join(lines)[-5000:]}'
        os.killpg(proc.pid, signum)
        proc.wait(timeout)
        deadline = time.monotonic() + 10
        while group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = group_members(proc.pid)
    finally:
        if proc.poll() is None or left:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    reader.join(timeout)
    return proc.returncode, ''.join(lines), left
