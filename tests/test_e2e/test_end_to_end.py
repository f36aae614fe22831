"""Training and evaluation through tools/train.py and tools/test.py on the
built-in data: the real mmpose / mmseg datasets, pipelines and metrics,
exact resume, overlays, and a 2-process distributed run."""
import json
import os
import os.path as osp
import shutil

import pytest
import torch

from e2e_utils import (PYTHON, ROOT, ade_data, coco_data, pose_config,
                       pythonpath, run, seg_config)


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    return coco_data(tmp_path_factory, num_val=4)


@pytest.fixture(scope='module')
def ade_root(tmp_path_factory):
    return ade_data(tmp_path_factory, num_val=2)


@pytest.fixture(scope='module')
def pose_run(tmp_path_factory, coco_root):
    """Two epochs of pose training, a checkpoint after each."""
    tmp = tmp_path_factory.mktemp('pose_run')
    cfg = pose_config(tmp, coco_root)
    run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(tmp / 'full')])
    return tmp, cfg


def _weights(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


def test_pose_training_writes_checkpoints_and_evaluates(pose_run):
    tmp, _ = pose_run
    work = tmp / 'full'
    assert (work / 'epoch_1.pth').is_file() and (work / 'epoch_2.pth').is_file()
    logs = list(work.glob('*/vis_data/scalars.json'))
    records = [json.loads(line) for line in logs[0].read_text().splitlines()]
    aps = [r['coco/AP'] for r in records if 'coco/AP' in r]
    assert len(aps) == 1 and 0.0 <= aps[0] <= 1.0


def test_resume_after_interruption_reproduces_the_uninterrupted_run(
        pose_run):
    """Restart from the epoch-1 checkpoint in a fresh work dir: epoch 2 must
    end with bit-identical weights (drop path is on, so the RNG state has to
    be restored as well)."""
    tmp, cfg = pose_run
    resumed = tmp / 'resumed'
    resumed.mkdir()
    shutil.copy(tmp / 'full' / 'epoch_1.pth', resumed / 'epoch_1.pth')
    run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(resumed),
         '--resume', str(resumed / 'epoch_1.pth')])
    full = _weights(tmp / 'full' / 'epoch_2.pth')
    again = _weights(resumed / 'epoch_2.pth')
    assert full.keys() == again.keys()
    for k in full:
        assert torch.equal(full[k], again[k]), k


def test_auto_resume_picks_the_latest_checkpoint(pose_run, tmp_path):
    tmp, cfg = pose_run
    work = tmp_path / 'auto'
    shutil.copytree(tmp / 'full', work)
    proc = run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(work),
                '--resume', '--cfg-options', 'train_cfg.max_epochs=3',
                'train_cfg.val_interval=3'])
    assert 'resumed epoch: 2' in proc.stdout + proc.stderr
    assert (work / 'epoch_3.pth').is_file()


def test_pose_test_reports_coco_ap_and_draws_keypoints(pose_run, coco_root):
    tmp, cfg = pose_run
    out = tmp / 'test'
    proc = run([PYTHON, 'tools/test.py', cfg,
                str(tmp / 'full' / 'epoch_2.pth'), '--work-dir', str(out),
                '--show-dir', str(out / 'vis')])
    metrics = json.loads((out / 'metrics.json').read_text())
    assert 0.0 <= metrics['coco/AP'] <= 1.0
    assert 'coco/AP' in proc.stdout + proc.stderr
    overlays = [f for _, _, fs in os.walk(out / 'vis') for f in fs
                if f.endswith(('.jpg', '.png'))]
    with open(osp.join(coco_root, 'person_detection_results',
                       'COCO_val2017_detections_AP_H_56_person.json')) as f:
        people = len(json.load(f))
    assert len(overlays) == people  # top-down: one picture per person box


def test_segmentation_trains_evaluates_miou_and_draws_masks(tmp_path,
                                                            ade_root):
    cfg = seg_config(tmp_path, ade_root)
    run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(tmp_path / 'w')])
    ckpt = tmp_path / 'w' / 'iter_4.pth'
    assert ckpt.is_file()
    run([PYTHON, 'tools/test.py', cfg, str(ckpt), '--work-dir',
         str(tmp_path / 't'), '--show-dir', 'vis'])
    metrics = json.loads((tmp_path / 't' / 'metrics.json').read_text())
    assert 0.0 <= metrics['mIoU'] <= 100.0
    overlays = list((tmp_path / 't').glob('**/vis/**/*.png'))
    assert len(overlays) == 2


def test_two_process_cpu_training_keeps_replicas_identical(tmp_path,
                                                           coco_root):
    """tools/dist_train.sh (torchrun, gloo on CPU): both ranks end with the
    same weights, which differ from the initial ones."""
    cfg = pose_config(
        tmp_path, coco_root, drop_path=0.0, epochs=1,
        extra="custom_imports = dict(imports=['hrformer_mm', "
        "'rank_dump_hook'])\n"
        "custom_hooks = [dict(type='SyncBuffersHook'), "
        "dict(type='DumpRankWeightsHook')]")
    work = tmp_path / 'dist'
    env = dict(PYTHON=PYTHON,
               PYTHONPATH=pythonpath(osp.join(ROOT, 'tests', 'helpers')),
               PORT=str(29500 + os.getpid() % 1000))  # (run(): no GPU, gloo)
    run(['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir', str(work)],
        env=env)
    r0 = torch.load(work / 'rank0_weights.pth', weights_only=False)
    r1 = torch.load(work / 'rank1_weights.pth', weights_only=False)
    assert r0['world_size'] == r1['world_size'] == 2
    for k, v in r0['state_dict'].items():
        assert torch.equal(v, r1['state_dict'][k]), k
    ckpt = _weights(work / 'epoch_1.pth')
    assert torch.equal(ckpt['backbone.conv1.weight'],
                       r0['state_dict']['backbone.conv1.weight'])


def test_checkpoint_none_evaluates_a_fresh_model(pose_run):
    """``tools/test.py CONFIG none`` gives the untrained baseline."""
    from hrformer_mm.engine.launch import parse_cfg_for_test
    tmp, cfg = pose_run
    assert parse_cfg_for_test([cfg, 'none']).load_from is None
    assert parse_cfg_for_test([cfg, 'x.pth']).load_from == 'x.pth'
