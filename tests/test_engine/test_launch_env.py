"""What tools/train.py and tools/test.py take from the launcher's
environment before the process group exists: the local rank (which GPU a
rank drives, and DDP's ``device_ids``) under every launcher, and the
process group's timeout.  GPUs and NCCL are emulated: ``torch.cuda``'s
device queries and ``init_process_group`` / ``TCPStore`` are monkeypatched
and their arguments recorded."""
import datetime
import os

import pytest
import torch
import torch.distributed as dist

from hrformer_mm.engine import launch

MPI_VARS = ('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE',
            'OMPI_COMM_WORLD_LOCAL_RANK', 'MV2_COMM_WORLD_RANK',
            'MV2_COMM_WORLD_SIZE', 'MV2_COMM_WORLD_LOCAL_RANK', 'PMI_RANK',
            'PMI_SIZE', 'MPI_LOCALRANKID', 'SLURM_PROCID', 'SLURM_NTASKS',
            'SLURM_LOCALID', 'LOCAL_RANK', 'RANK', 'WORLD_SIZE',
            'MASTER_ADDR', 'MASTER_PORT', 'TORCHELASTIC_USE_AGENT_STORE',
            'TORCHELASTIC_RESTART_COUNT')


@pytest.fixture
def env(monkeypatch):
    """A clean launcher environment; os.environ is restored afterwards
    (parsing a config writes LOCAL_RANK, RANK, ...)."""
    for k in MPI_VARS:
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


@pytest.fixture
def gpus(monkeypatch):
    """``gpus(n)``: n visible GPUs; set_device calls are recorded."""
    calls = []

    def set_count(n):
        monkeypatch.setattr(torch.cuda, 'device_count', lambda: n)
        monkeypatch.setattr(torch.cuda, 'is_available', lambda: n > 0)
        monkeypatch.setattr(torch.cuda, 'set_device', calls.append)
        return calls
    return set_count


@pytest.fixture
def pg_calls(monkeypatch):
    """init_process_group recorded instead of run."""
    calls = []
    monkeypatch.setattr(dist, 'init_process_group',
                        lambda *a, **kw: calls.append((a, kw)))
    return calls


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text("default_scope = 'mmpose'\nmodel = dict(type='X')\n"
                    'env_cfg = dict(dist_cfg=dict(backend=\'nccl\'))\n')
    return str(path)


def _load(config, *argv):
    return launch._load(launch.train_parser().parse_args([config, *argv]))


@pytest.mark.parametrize('variables', [
    dict(OMPI_COMM_WORLD_RANK='11', OMPI_COMM_WORLD_SIZE='16',
         OMPI_COMM_WORLD_LOCAL_RANK='3'),
    dict(MV2_COMM_WORLD_RANK='11', MV2_COMM_WORLD_SIZE='16',
         MV2_COMM_WORLD_LOCAL_RANK='3'),
    dict(PMI_RANK='11', PMI_SIZE='16', MPI_LOCALRANKID='3'),
    dict(SLURM_PROCID='11', SLURM_NTASKS='16', SLURM_LOCALID='3'),
], ids=['openmpi', 'mvapich2', 'hydra', 'slurm'])
def test_mpi_rank_drives_its_own_gpu(env, gpus, pg_calls, config,
                                     variables):
    """Rank 11 of 16, the fourth on its node of 8 GPUs: LOCAL_RANK (DDP's
    device_ids) 3, its GPU selected before the process group is created
    with the MPI rank and size."""
    for k, v in variables.items():
        env.setenv(k, v)
    env.setenv('MASTER_ADDR', '10.0.0.1')
    set_device = gpus(8)
    cfg = _load(config, '--launcher', 'mpi')
    assert os.environ['LOCAL_RANK'] == '3'
    launch._prepare_environment(cfg)
    assert set_device == [3]
    (args, kwargs), = pg_calls
    assert (args, kwargs['rank'], kwargs['world_size']) == (('nccl', ), 11,
                                                           16)
    assert kwargs['timeout'] == datetime.timedelta(minutes=10)
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'],
            os.environ['MASTER_PORT']) == ('11', '16', '29500')


def test_mpi_without_a_local_rank_and_several_gpus_is_refused(env, gpus,
                                                               config):
    env.setenv('PMI_RANK', '5')
    env.setenv('PMI_SIZE', '16')
    gpus(8)
    with pytest.raises(RuntimeError, match=r'local rank.*MPI_LOCALRANKID.*'
                       r'8 GPUs'):
        _load(config, '--launcher', 'mpi')


@pytest.mark.parametrize('visible, argv, expected', [
    (1, (), '0'),                       # one GPU per rank: it is GPU 0
    (8, ('--local-rank', '6'), '6'),    # said on the command line
])
def test_mpi_local_rank_where_no_variable_says_it(env, gpus, config,
                                                  visible, argv, expected):
    env.setenv('PMI_RANK', '5')
    env.setenv('PMI_SIZE', '16')
    gpus(visible)
    _load(config, '--launcher', 'mpi', *argv)
    assert os.environ['LOCAL_RANK'] == expected


def test_torchrun_local_rank_is_kept(env, gpus, config):
    env.setenv('LOCAL_RANK', '5')
    env.setenv('OMPI_COMM_WORLD_LOCAL_RANK', '2')
    gpus(8)
    _load(config, '--launcher', 'pytorch')
    assert os.environ['LOCAL_RANK'] == '5'


def test_mpi_without_mpi_variables_is_named(env, gpus, config):
    gpus(8)
    with pytest.raises(RuntimeError, match='--launcher mpi.*OMPI_COMM_WORLD'):
        _load(config, '--launcher', 'mpi', '--local-rank', '0')


@pytest.fixture
def torchrun_store(env, monkeypatch):
    """torchrun's agent store, recorded instead of connected to."""
    stores = []

    class Store:
        def __init__(self, *args, timeout=None, **kwargs):
            stores.append(timeout)

    monkeypatch.setattr(dist, 'TCPStore', Store)
    monkeypatch.setattr(dist, 'PrefixStore', lambda prefix, store: store)
    for k, v in dict(TORCHELASTIC_USE_AGENT_STORE='True',
                     MASTER_ADDR='127.0.0.1', MASTER_PORT='29500',
                     WORLD_SIZE='2', RANK='1', LOCAL_RANK='1').items():
        env.setenv(k, v)
    return stores


@pytest.mark.parametrize('backend, timeout, expected', [
    ('nccl', None, datetime.timedelta(minutes=10)),   # torch's NCCL default
    ('gloo', None, datetime.timedelta(minutes=30)),   # torch's other default
    ('nccl', 120, datetime.timedelta(seconds=120)),   # dist_cfg.timeout
])
def test_process_group_timeout_is_torchs_default_or_the_configs(
        torchrun_store, gpus, pg_calls, backend, timeout, expected):
    gpus(2)
    assert launch.init_distributed(backend, timeout) is True
    (args, kwargs), = pg_calls
    assert args == (backend, )
    assert kwargs['timeout'] == expected
    assert torchrun_store == [expected]


def test_cpu_process_group_timeout_is_gloos_default(env, pg_calls):
    assert launch.init_distributed('gloo') is True
    assert pg_calls[0][1]['timeout'] == datetime.timedelta(minutes=30)
