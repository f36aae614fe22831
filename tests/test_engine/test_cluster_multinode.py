"""Multi-node: two torchrun launchers on this machine (NNODES=2, one
process each) meeting in a c10d rendezvous on localhost train to the same
weights and the same evaluation as one launcher with two processes."""
import os
import subprocess

import pytest

from hrformer_mm.datasets import generate_coco_keypoints

from cluster_utils import HELPERS, dist_train, free_port, load
from e2e_utils import PYTHON, ROOT, pose_config, pythonpath
from train_logs import scalar_records

pytestmark = pytest.mark.cluster

OPTS = ['--cfg-options', 'train_dataloader.batch_size=2']


def _metrics(work):
    return [r for r in scalar_records(work) if 'coco/AP' in r][-1]


def test_two_node_rendezvous_equals_one_node(tmp_path):
    generate_coco_keypoints(str(tmp_path / 'coco'), num_train=8,
                            num_val=2, seed=1)
    cfg = pose_config(tmp_path, str(tmp_path / 'coco'), epochs=2)
    one = tmp_path / 'one_node'
    dist_train(cfg, one, *OPTS, gpus=2)

    two = tmp_path / 'two_nodes'  # one work dir, as on a shared filesystem
    env = dict(os.environ, PYTHON=PYTHON, PORT=free_port(), NNODES='2',
               RDZV_BACKEND='c10d', RDZV_ID='test', MASTER_ADDR='127.0.0.1',
               PYTHONPATH=pythonpath(HELPERS), CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1')
    nodes = [subprocess.Popen(
        ['bash', 'tools/dist_train.sh', cfg, '1', '--work-dir', str(two),
         *OPTS], cwd=ROOT, env=dict(env, NODE_RANK=str(n)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for n in (0, 1)]
    try:
        outs = [p.communicate(timeout=300)[0] for p in nodes]
    finally:
        for p in nodes:
            if p.poll() is None:
                p.kill()
    for p, out in zip(nodes, outs):
        assert p.returncode == 0, out[-3000:]
    a, b = load(one / 'epoch_2.pth'), load(two / 'epoch_2.pth')
    # one group of two ranks (RNGStateHook saves one state per rank)
    assert len(a['rng_states']) == len(b['rng_states']) == 2
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for k in a['state_dict']:
        assert a['state_dict'][k].equal(b['state_dict'][k]), k
    ma, mb = _metrics(one), _metrics(two)
    for k in ma:
        if k.startswith('coco/'):
            assert ma[k] == mb[k], k
