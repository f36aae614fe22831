"""What ``tools/train.py`` and ``tools/test.py`` share: turning command-line
flags into config changes, and building the right runner.

Which library runs a config is the config's ``default_scope`` (``mmpose``,
``mmseg`` or ``mmdet``); training itself is mmengine's ``Runner`` in every
case, so distributed launches go through ``torchrun`` / Slurm and
mmengine's ``init_dist`` as in the hosts; under torchrun the process group
is initialised here, on a store of its own restart round
(:func:`restart_round_store`), so that ``--max-restarts`` works.
"""
import argparse
import datetime
import logging
import os
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from hrformer_mm.safe_load import TRUST_ENV

from .checks import (check_checkpoint_matches, check_data_files,
                     check_head_channels)

SCOPES = ('mmpose', 'mmseg', 'mmdet', 'mmpretrain')
BUILD_SCOPES = SCOPES


def _common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. '
        'train_dataloader.batch_size=16 model.backbone.with_cp=True')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help='job launcher (set by dist_*.sh / slurm_*.sh)')
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='load checkpoints with full unpickling, which can run code: '
        'only for files you trust that hold types outside the safe '
        'allow-list (sets HRFORMER_TRUST_CHECKPOINTS=1)')
    # torchrun sets LOCAL_RANK; older launchers pass --local-rank; under
    # --launcher mpi it comes from the MPI environment (mpi_environment)
    parser.add_argument('--local_rank', '--local-rank', type=int,
                        default=None)


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description='Train a pose or segmentation '
                                'model (mmpose or mmseg, chosen by config).')
    p.add_argument('config', help='config file')
    p.add_argument('--resume', nargs='?', type=str, const='auto',
                   help='resume from CHECKPOINT, or with no value from the '
                   'latest checkpoint in the work dir')
    p.add_argument('--amp', action='store_true',
                   help='automatic mixed precision (AmpOptimWrapper)')
    p.add_argument('--auto-scale-lr', action='store_true',
                   help='scale the learning rate by the actual batch size')
    _common_args(p)
    return p


def test_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description='Evaluate a checkpoint (COCO AP '
                                'or mIoU, as the config says).')
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', help='checkpoint file, or "none" to '
                   'evaluate a randomly initialised model (a baseline)')
    p.add_argument('--show-dir', help='write prediction overlays (keypoints '
                   'or masks) into this folder, under the work dir')
    p.add_argument('--out', help='dump raw predictions to this pickle file')
    _common_args(p)
    return p


def _load(args) -> Config:
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    scope = cfg.get('default_scope')
    if scope not in SCOPES:
        raise ValueError(f'{args.config}: default_scope must be one of '
                         f'{SCOPES} (it picks mmpose, mmseg or mmdet), got '
                         f'{scope!r}')
    cfg.launcher = args.launcher
    if args.trust_checkpoint:
        os.environ[TRUST_ENV] = '1'
    if args.launcher == 'mpi':
        os.environ.update(mpi_environment(args.local_rank))
    elif 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank or 0)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


#: (launcher, rank, world size, local rank) variables each MPI launcher sets
MPI_VARIABLES = (
    ('Open MPI', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE',
     'OMPI_COMM_WORLD_LOCAL_RANK'),
    ('MVAPICH2', 'MV2_COMM_WORLD_RANK', 'MV2_COMM_WORLD_SIZE',
     'MV2_COMM_WORLD_LOCAL_RANK'),
    ('MPICH / Intel MPI (Hydra)', 'PMI_RANK', 'PMI_SIZE', 'MPI_LOCALRANKID'),
    ('Slurm srun', 'SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID'),
)


def mpi_environment(local_rank=None) -> dict:
    """``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` of an MPI-launched rank,
    from the variables its launcher sets (:data:`MPI_VARIABLES`).

    ``LOCAL_RANK`` is the GPU this rank drives (the Runner gives it to DDP
    as ``device_ids``): a ``LOCAL_RANK`` already set, else the launcher's
    node-local rank, else ``local_rank`` (``--local-rank``); 0 where the
    rank sees one GPU only (one GPU per rank, e.g. a per-rank
    ``CUDA_VISIBLE_DEVICES``).  Where several GPUs are visible and none of
    these says which is this rank's, every rank would pick GPU 0: refused
    by name.
    """
    env = os.environ
    found = [v for v in MPI_VARIABLES if v[1] in env and v[2] in env]
    if not found:
        names = ', '.join(f'{v[1]} / {v[2]} ({v[0]})' for v in MPI_VARIABLES)
        raise RuntimeError(f'--launcher mpi: none of the MPI rank variables '
                           f'is set ({names}); start the job with mpirun, '
                           f'mpiexec or srun, or use another --launcher')
    _, rank_var, size_var, local_var = found[0]
    gpus = torch.cuda.device_count()
    if 'LOCAL_RANK' in env:
        local = int(env['LOCAL_RANK'])
    elif gpus == 1:
        local = 0
    elif local_var in env:
        local = int(env[local_var])
    elif local_rank is not None:
        local = local_rank
    elif gpus > 1:
        raise RuntimeError(
            f'--launcher mpi: the local rank of rank {env[rank_var]} is not '
            f'known ({local_var} is not set, nor LOCAL_RANK or --local-rank) '
            f'and {gpus} GPUs are visible, so every rank on a node would use '
            f'GPU 0; set LOCAL_RANK per rank, or give each rank one GPU '
            f'(CUDA_VISIBLE_DEVICES)')
    else:
        local = 0
    if gpus > 1 and local >= gpus:
        raise RuntimeError(f'--launcher mpi: local rank {local} but only '
                           f'{gpus} GPUs are visible on this node')
    return dict(RANK=str(int(env[rank_var])),
                WORLD_SIZE=str(int(env[size_var])), LOCAL_RANK=str(local))


def default_timeout(backend: str) -> datetime.timedelta:
    """torch's default process-group timeout for ``backend``: 10 minutes for
    NCCL (where torch has NCCL), 30 for the others."""
    from torch.distributed import constants
    if backend == 'nccl' and constants.default_pg_nccl_timeout is not None:
        return constants.default_pg_nccl_timeout
    return constants.default_pg_timeout


def replace_syncbn(node):
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
        for v in node.values():
            replace_syncbn(v)
    elif isinstance(node, list):
        for v in node:
            replace_syncbn(v)


def restart_round_store(timeout: datetime.timedelta):
    """The store for this restart round's default process group under
    torchrun, or None where ``init_process_group``'s own env:// store is
    safe.

    torchrun's agent hosts the TCPStore that its workers' env:// rendezvous
    uses (``TORCHELASTIC_USE_AGENT_STORE=True``) and keeps it, on the same
    ``MASTER_PORT`` and with every key, across the group restarts of
    ``--max-restarts`` (``StaticTCPRendezvous`` caches its store; the c10d
    rendezvous's shared store is created once too).  The process group's
    keys carry no round (``default_pg/0//cpu//0/<rank>``: each gloo rank's
    listening address; with nccl the unique id), and torch's env:// handler
    does not prefix them with the restart count, so a restarted rank can
    read the dead group's value instead of waiting for the new one: gloo's
    ``connectFullMesh`` then connects to a port nobody listens on
    ("Connection refused"), or to one something else has taken since (a
    hang).  The keys of round ``TORCHELASTIC_RESTART_COUNT`` go under their
    own prefix here; all workers of an agent share that count, and with the
    static rendezvous an agent restarts, and counts, only on a failure of
    the group, which every node's workers see.  (Elsewhere the count can
    differ between nodes: ``tools/dist_train.sh`` runs the c10d rendezvous
    without the shared store, so a fresh store serves each round.)
    """
    env = os.environ
    if env.get('TORCHELASTIC_USE_AGENT_STORE') != str(True):
        return None
    store = dist.TCPStore(env['MASTER_ADDR'], int(env['MASTER_PORT']),
                          int(env['WORLD_SIZE']), is_master=False,
                          timeout=timeout)
    round_ = int(env.get('TORCHELASTIC_RESTART_COUNT') or 0)
    return dist.PrefixStore(f'hrformer/restart_round_{round_}', store)


def init_distributed(backend: str, timeout=None) -> bool:
    """``init_process_group(backend)`` for a torchrun worker, on the store
    of :func:`restart_round_store` where torchrun's agent serves one;
    ``timeout`` in seconds (mmengine's ``dist_cfg.timeout``; where None,
    torch's default for the backend, :func:`default_timeout`).  Returns
    False, doing nothing, where that store is not needed and ``backend`` is
    not gloo: mmengine's ``init_dist`` then initialises the process group
    as usual."""
    delta = datetime.timedelta(seconds=timeout) if timeout is not None \
        else default_timeout(backend)
    store = restart_round_store(delta)
    if store is None:
        if backend != 'gloo':
            return False
        dist.init_process_group(backend, timeout=delta)
        return True
    if backend == 'nccl' and torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']))  # as init_dist
    dist.init_process_group(backend, store=store, timeout=delta,
                            rank=int(os.environ['RANK']),
                            world_size=int(os.environ['WORLD_SIZE']))
    return True


def _setup_cpu_distributed(cfg: Config) -> None:
    """Distributed training without GPUs (gloo), e.g. for tests.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` and its DDP
    wrapper passes ``device_ids``; both fail without CUDA.  Initialising the
    process group here makes the Runner skip its own initialisation.
    SyncBN has no CPU kernel, so it becomes BN.
    """
    if cfg.launcher != 'pytorch':
        raise RuntimeError(f'launcher {cfg.launcher!r} needs GPUs; use '
                           'tools/dist_train.sh (torchrun) for CPU runs')
    if not dist.is_initialized():
        init_distributed('gloo', cfg.env_cfg.get('dist_cfg', {}).get(
            'timeout'))
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel',
                                 device_ids=None, broadcast_buffers=False)
    replace_syncbn(cfg.model)
    # With plain BN each rank keeps its own statistics; average them every
    # epoch as mmpose's runtime does (mmseg's relies on SyncBN instead).
    hooks = cfg.get('custom_hooks', [])
    if not any(h.get('type') == 'SyncBuffersHook' for h in hooks):
        cfg.custom_hooks = list(hooks) + [dict(type='SyncBuffersHook')]
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    print_log('CPU distributed run: gloo backend, BN instead of SyncBN',
              logger='current', level=logging.WARNING)


def init_mpi_distributed(backend: str, timeout=None) -> None:
    """``init_process_group(backend)`` for a rank started by an MPI
    launcher, after ``_load`` has put its ``RANK``, ``WORLD_SIZE`` and
    ``LOCAL_RANK`` (:func:`mpi_environment`) in the environment: each rank
    selects its own GPU first.  mmengine's ``init_dist`` reads Open MPI's
    variables alone; this serves every launcher of :data:`MPI_VARIABLES`.
    The rendezvous is env:// on ``MASTER_ADDR`` (required) and
    ``MASTER_PORT`` (default 29500, as mmengine's)."""
    env = os.environ
    if 'MASTER_ADDR' not in env:
        raise KeyError('--launcher mpi: the environment variable MASTER_ADDR '
                       '(the address of rank 0) is not set')
    env.setdefault('MASTER_PORT', '29500')
    delta = datetime.timedelta(seconds=timeout) if timeout is not None \
        else default_timeout(backend)
    if backend == 'nccl':
        torch.cuda.set_device(int(env['LOCAL_RANK']))
    dist.init_process_group(backend, rank=int(env['RANK']),
                            world_size=int(env['WORLD_SIZE']), timeout=delta)


def _prepare_environment(cfg: Config) -> None:
    dist_cfg = dict(cfg.env_cfg.get('dist_cfg', {}))
    # other dist_cfg options (init_backend, ...) stay with mmengine
    own_init = not dist.is_initialized() and \
        set(dist_cfg) <= {'backend', 'timeout'}
    if cfg.launcher != 'none' and not torch.cuda.is_available():
        _setup_cpu_distributed(cfg)
    elif cfg.launcher == 'pytorch' and own_init:
        # GPUs under torchrun: the same per-restart-round store (mmengine's
        # init_dist would use the env:// one); the Runner then skips init.
        init_distributed(dist_cfg.get('backend', 'nccl'),
                         dist_cfg.get('timeout'))
    elif cfg.launcher == 'mpi' and own_init:
        init_mpi_distributed(dist_cfg.get('backend', 'nccl'),
                             dist_cfg.get('timeout'))
    elif cfg.launcher == 'none' and not torch.cuda.is_available():
        # A single CPU process: SyncBN would fail at the first batch.
        replace_syncbn(cfg.model)


LOADERS = ('LoadImage', 'LoadImageFromFile', 'mmpose.LoadImage',
           'mmseg.LoadImageFromFile', 'mmcv.LoadImageFromFile')


def apply_bad_image_policy(cfg: Config) -> None:
    """Wrap each pipeline's image loader in ``GuardedLoadImage`` so that an
    undecodable image stops the run naming the file (``bad_images =
    'raise'``, the default) or, in training, is skipped with a warning and
    counted (``bad_images = 'skip'``; evaluation always stops)."""
    import hrformer_mm.datasets.transforms  # noqa: F401  (registers it)
    policy = cfg.get('bad_images', 'raise')
    if policy not in ('raise', 'skip'):
        raise ValueError(f"bad_images must be 'raise' or 'skip', got "
                         f'{policy!r}')
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        datasets = [loader['dataset']]
        while datasets:
            ds = datasets.pop()
            datasets += [d for d in (ds.get('datasets') or
                                     [ds.get('dataset')]) if d]
            for k, t in enumerate(ds.get('pipeline') or []):
                if isinstance(t, dict) and t.get('type') in LOADERS:
                    ds['pipeline'][k] = dict(
                        type='hrformer_mm.GuardedLoadImage', load=t,
                        on_error=policy if split == 'train' else 'raise',
                        key=f'{split}_dataloader')
    if policy == 'skip':
        hooks = cfg.get('custom_hooks', [])
        cfg.custom_hooks = list(hooks) + [
            dict(type='hrformer_mm.SkippedImagesHook')]


def _checkpoint_readable(path: str) -> bool:
    """Whether a checkpoint file is complete: a zip archive whose entries
    all pass their CRC check (cheap next to unpickling it)."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as z:
            return z.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError):
        return False


def latest_readable_checkpoint(work_dir: str):
    """The newest complete checkpoint in ``work_dir`` (the one
    ``last_checkpoint`` names, else the newest ``*.pth``), skipping
    unreadable ones with a warning that names them; None if there is
    none."""
    import glob

    from .hooks import last_checkpoint
    named = last_checkpoint(work_dir)
    candidates = [named] if named else []
    candidates += sorted(glob.glob(osp.join(work_dir, '*.pth')),
                         key=osp.getmtime, reverse=True)
    seen = set()
    for path in candidates:
        if path in seen or not osp.isfile(path):
            continue
        seen.add(path)
        if _checkpoint_readable(path):
            return path
        print_log(f'auto-resume: skipping unreadable checkpoint {path} '
                  '(truncated or corrupt, e.g. written by a run that was '
                  'killed while saving)', logger='current',
                  level=logging.WARNING)
    return None


def parse_cfg_for_train(argv=None) -> Config:
    args = train_parser().parse_args(argv)
    cfg = _load(args)
    if args.amp:
        if not torch.cuda.is_available():
            raise RuntimeError('--amp needs a GPU: mixed precision on the CPU '
                               'is not supported by mmengine')
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper == 'OptimWrapper':
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
        elif wrapper != 'AmpOptimWrapper':
            raise ValueError(f'--amp cannot wrap optim_wrapper.type={wrapper}')
    if args.auto_scale_lr:
        cfg.auto_scale_lr = dict(cfg.get('auto_scale_lr', {}), enable=True)
    restarts = int(os.environ.get('TORCHELASTIC_RESTART_COUNT') or 0)
    if restarts > 0:
        # torchrun restarted the group after a lost worker: go on from the
        # newest complete checkpoint, not from the start (or an old file)
        print_log(f'torchrun restart {restarts}: resuming from the newest '
                  f'complete checkpoint in {cfg.work_dir}', logger='current',
                  level=logging.WARNING)
        args.resume = 'auto'
    if args.resume == 'auto':
        cfg.load_from = latest_readable_checkpoint(cfg.work_dir) \
            if osp.isdir(cfg.work_dir) else None
        # with nothing readable, mmengine would pick the file that
        # last_checkpoint names, however broken: start from scratch instead
        cfg.resume = cfg.load_from is not None
        if cfg.load_from is None:
            print_log(f'--resume: no complete checkpoint in {cfg.work_dir}; '
                      'training from scratch', logger='current',
                      level=logging.WARNING)
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    _prepare_environment(cfg)
    apply_bad_image_policy(cfg)
    check_data_files(cfg, ['train', 'val'] if cfg.get('val_cfg') is not None
                     else ['train'])
    return cfg


def parse_cfg_for_test(argv=None) -> Config:
    args = test_parser().parse_args(argv)
    cfg = _load(args)
    if args.checkpoint.lower() == 'none':
        print_log('checkpoint "none": evaluating a randomly initialised '
                  'model', logger='current', level=logging.WARNING)
        cfg.load_from = None
    else:
        cfg.load_from = args.checkpoint
    if args.show_dir:
        vis = cfg.default_hooks.visualization
        if cfg.default_scope == 'mmpose':
            vis.enable = True
            vis.out_dir = args.show_dir
        else:
            vis.draw = True
            cfg.visualizer.save_dir = osp.join(cfg.work_dir, args.show_dir)
            vis.interval = 1
    if args.out:
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(
            cfg.test_evaluator, dict) else list(cfg.test_evaluator)
        cfg.test_evaluator.append(dict(type='DumpResults',
                                       out_file_path=args.out))
    _prepare_environment(cfg)
    apply_bad_image_policy(cfg)
    check_data_files(cfg, ['test'])
    return cfg


def build_model_from_config(config, pretrained: bool = False):
    """Build the model of a config file (or Config) with its library's
    registry, SyncBN replaced by BN so it runs in one CPU process.  With
    ``pretrained=False`` the backbone's ``init_cfg`` is dropped (nothing is
    downloaded).  Returns ``(cfg, model)``."""
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg.get('default_scope') not in BUILD_SCOPES:
        raise ValueError(f'default_scope must be one of {BUILD_SCOPES}')
    init_default_scope(cfg.default_scope)
    replace_syncbn(cfg.model)
    if not pretrained:
        cfg.model.backbone.init_cfg = None
    registry = __import__(f'{cfg.default_scope}.registry',
                          fromlist=['MODELS']).MODELS
    return cfg, registry.build(cfg.model)


def build_runner(cfg: Config):
    """Build mmengine's Runner (or the config's ``runner_type``) and check a
    ``load_from`` checkpoint against the model before anything runs."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    hooks = list(cfg.get('custom_hooks', []))
    for name in ('NonFiniteLossHook', 'DatasetModelCheckHook'):
        if not any(h.get('type') in (name, f'hrformer_mm.{name}')
                   for h in hooks):
            hooks.append(dict(type=f'hrformer_mm.{name}'))
    cfg.custom_hooks = hooks
    # preemption checkpoints, exact mid-epoch resume, all-rank stops
    from .cluster import use_resumable_loops
    use_resumable_loops(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else \
        RUNNERS.build(cfg)
    model = runner.model.module if hasattr(runner.model, 'module') \
        else runner.model
    # the Runner's sync_bn option converted the norms after the backbone
    # compiled its blocks
    from hrformer_mm.models.backbones import MultiResolutionBackbone
    for m in model.modules():
        if isinstance(m, MultiResolutionBackbone):
            m.keep_sync_batchnorm_eager()
    check_head_channels(cfg.model, model)
    if cfg.get('load_from'):
        check_checkpoint_matches(model, cfg.load_from)
    return runner
