"""Helpers of the cluster tests (tests/test_engine/test_cluster_*.py): 2-process
torchrun runs through tools/dist_train.sh, configs with injected faults
(tests/helpers/cluster_faults.py), checkpoint comparison."""
import os.path as osp
import socket

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
