"""Small configs and subprocess helpers for the end-to-end tests, and the
head-channel check the checks' tests call."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PYTHON = sys.executable

# A 2-stream-wide HRFormer small enough to train in seconds on one core.
MICRO_ARCH = ("dict(_delete_=True, channels=(8, 16, 32, 64), "
              "num_heads=(1, 1, 2, 2), "
              "num_modules=(1, 1, 1), num_blocks=1)")


def pose_config(tmp_path, coco_root, drop_path=0.1, epochs=2,
                extra: str = '') -> str:
    path = osp.join(str(tmp_path), 'pose_micro.py')
    with open(path, 'w') as f:
        f.write(f"""
_base_ = ['{ROOT}/configs/pose/hrformer_demo_coco.py']
data_root = '{coco_root}/'
model = dict(
    backbone=dict(arch={MICRO_ARCH}, drop_path_rate={drop_path}),
    head=dict(in_channels=8))
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, bbox_file=data_root +
                 'person_detection_results/'
                 'COCO_val2017_detections_AP_H_56_person.json'))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root +
                     'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
randomness = dict(seed=0)
{extra}
""")
    return path


def seg_micro_schedule(iters: int) -> str:
    """The micro segmentation runs' loaders (batch 2, no workers, over the
    config's ``data_root``) and an iteration schedule of ``iters`` with one
    validation and one checkpoint at its end, as config text."""
    return f'''train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_iters={iters}, val_interval={iters})
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval={iters}))
randomness = dict(seed=0)
'''


def seg_config(tmp_path, ade_root, iters=4) -> str:
    path = osp.join(str(tmp_path), 'seg_micro.py')
    with open(path, 'w') as f:
        f.write(f"""
_base_ = ['{ROOT}/configs/seg/hrformer_demo_ade20k.py']
data_root = '{ade_root}'
channels = [8, 16, 32, 64]
norm_cfg = dict(type='BN', requires_grad=True)
common = dict(in_channels=channels, in_index=(0, 1, 2, 3),
              input_transform='resize_concat', dropout_ratio=-1,
              num_classes=150, norm_cfg=norm_cfg, align_corners=False)
model = dict(
    backbone=dict(arch={MICRO_ARCH}),
    decode_head=[
        dict(type='FCNHead', channels=sum(channels), kernel_size=1,
             num_convs=1, concat_input=False,
             loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4),
             **common),
        dict(type='OCRHead', channels=16, ocr_channels=8,
             loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0),
             **common),
    ])
{seg_micro_schedule(iters)}""")
    return path


def pythonpath(*extra: str) -> str:
    """The project root and ``extra`` in front of the caller's PYTHONPATH,
    which is kept: where the stack is installed outside the interpreter's
    own site-packages (the GPU machine's /tmp/site), subprocesses need it."""
    return os.pathsep.join(
        p for p in (ROOT, *extra, os.environ.get('PYTHONPATH')) if p)


def run(args, env=None, timeout=600, check=True, gpu=False):
    """Run a command from the project root; it sees no GPU unless ``gpu``
    (the tests compare CPU runs exactly, e.g. resumed against uninterrupted
    training, and must give the same answers on a machine with a GPU)."""
    full_env = dict(os.environ, PYTHONPATH=pythonpath(),
                    OMP_NUM_THREADS='1')
    if not gpu:
        full_env['CUDA_VISIBLE_DEVICES'] = ''
    full_env.update(env or {})
    proc = subprocess.run(args, cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(args)} failed ({proc.returncode}):\n'
            f'{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc


def load_tool(relpath: str):
    """Import a script under tools/ (not a package) as a module, so tests
    can call its ``main(argv)`` and helpers in-process."""
    name = osp.splitext(osp.basename(relpath))[0]
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def coco_data(tmp_path_factory, num_val: int, num_train: int = 8,
              seed: int = 1) -> str:
    """The synthetic COCO keypoints of the pose end-to-end and cluster
    tests, in a fresh temporary folder (for module-scoped fixtures)."""
    from hrformer_mm.datasets import generate_coco_keypoints
    root = tmp_path_factory.mktemp('coco')
    generate_coco_keypoints(str(root), num_train=num_train, num_val=num_val,
                            seed=seed)
    return str(root)


def ade_data(tmp_path_factory, num_val: int, num_train: int = 4,
             seed: int = 1) -> str:
    """The synthetic ADE20K of the seg end-to-end and cluster tests, in a
    fresh temporary folder (for module-scoped fixtures)."""
    from hrformer_mm.datasets import generate_ade20k
    root = tmp_path_factory.mktemp('ade')
    generate_ade20k(str(root), num_train=num_train, num_val=num_val,
                    seed=seed)
    return str(root)


def det_demo_config(tmp_path, coco_det_root, epochs: int = 1) -> str:
    """``configs/det/hrnetv2p_demo_mask_rcnn.py`` (the detection demo's
    people / cars / balls detector) on ``coco_det_root``, ``epochs`` epochs
    of batches of two with no worker processes."""
    path = osp.join(str(tmp_path), 'det_demo_micro.py')
    with open(path, 'w') as f:
        f.write(f"""
_base_ = ['{ROOT}/configs/det/hrnetv2p_demo_mask_rcnn.py']
data_root = '{coco_det_root}/'
loader = dict(batch_size=2, num_workers=0, persistent_workers=False,
              dataset=dict(data_root=data_root))
train_dataloader = loader
val_dataloader = loader
test_dataloader = loader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
param_scheduler = [dict(type='ConstantLR', factor=1.0)]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval={epochs}))
""")
    return path


def head_check_message(cfg, model, error) -> str:
    """The message of the ``error`` that ``check_head_channels`` must raise
    on ``model`` built from ``cfg``."""
    import pytest
    from hrformer_mm.engine.checks import check_head_channels
    with pytest.raises(error) as err:
        check_head_channels(cfg.model, model)
    return str(err.value)
