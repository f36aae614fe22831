"""Training and evaluation through tools/train.py and tools/test.py on the
built-in data: the real mmpose / mmseg datasets, pipelines and metrics,
exact resume, overlays, and a 2-process distributed run.  The COCO AP and
mIoU they report are recomputed here from the predictions tools/test.py
dumps (``--out``) and the ground truth."""
import contextlib
import io
import json
import os
import os.path as osp
import pickle
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from e2e_utils import (PYTHON, ROOT, ade_data, coco_data, pose_config,
                       pythonpath, run, seg_config)
from train_logs import scalar_records


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


@pytest.fixture(scope='module')
def pose_test(pose_run):
    """tools/test.py on the epoch-2 checkpoint: overlays, and the
    predictions dumped."""
    tmp, cfg = pose_run
    out = tmp / 'test'
    proc = run([PYTHON, 'tools/test.py', cfg,
                str(tmp / 'full' / 'epoch_2.pth'), '--work-dir', str(out),
                '--show-dir', str(out / 'vis'), '--out',
                str(out / 'preds.pkl')])
    with open(out / 'preds.pkl', 'rb') as f:
        preds = pickle.load(f)
    return out, proc, preds


def _oks_nms(insts, thr, sigmas):
    """Greedy OKS NMS of one image's instances (mmpose's ``oks_nms``): keep
    the best-scored one, drop those whose OKS with it exceeds ``thr``."""
    var = (2 * sigmas) ** 2
    order = sorted(range(len(insts)), key=lambda i: -insts[i]['score'])
    keep = []
    while order:
        i, rest = order[0], order[1:]
        keep.append(i)
        a = insts[i]
        order = []
        for j in rest:
            b = insts[j]
            d2 = ((a['kpts'] - b['kpts']) ** 2).sum(1)
            e = d2 / var / ((a['area'] + b['area']) / 2 + np.spacing(1)) / 2
            if np.mean(np.exp(-e)) <= thr:
                order.append(j)
    return [insts[i] for i in keep]


def coco_keypoint_ap(ann_file, preds):
    """pycocotools' keypoint AP of dumped top-down predictions with the COCO
    sigmas, scored as mmpose's CocoMetric (defaults) does: the box score
    times the mean of the keypoint scores above 0.2, OKS NMS at 0.9 with
    the box scale's area, then pycocotools' COCOeval (CocoMetric runs
    xtcocotools' with ``use_area``: the same OKS, by the ground-truth area)."""
    from mmpose.datasets import CocoDataset
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    sigmas = parse_pose_metainfo(CocoDataset.METAINFO)['sigmas']
    by_image = {}
    for p in sorted(preds, key=lambda p: p['id']):
        inst = p['pred_instances']
        scales = p['gt_instances'].get('bbox_scales')
        for k, kpts in enumerate(np.asarray(inst['keypoints'])):
            scores = np.asarray(inst['keypoint_scores'][k])
            valid = scores[scores > 0.2]
            area = (np.prod(np.asarray(scales[k])) if scales is not None else
                    np.ptp(kpts[:, 0]) * np.ptp(kpts[:, 1]))
            by_image.setdefault(p['img_id'], []).append(dict(
                image_id=p['img_id'], category_id=p.get('category_id', 1),
                kpts=kpts, kpt_scores=scores, area=area,
                score=float(inst['bbox_scores'][k]) *
                (valid.mean() if valid.size else 0.0)))
    dets = [dict(image_id=d['image_id'], category_id=d['category_id'],
                 score=float(d['score']),
                 keypoints=np.concatenate(
                     [d['kpts'], d['kpt_scores'][:, None]], 1)
                 .ravel().tolist())
            for insts in by_image.values()
            for d in _oks_nms(insts, 0.9, sigmas)]
    assert dets, 'no predictions to score'
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(ann_file)
        ev = COCOeval(gt, gt.loadRes(dets), 'keypoints')
        ev.params.kpt_oks_sigmas = np.asarray(sigmas)  # OKS by the gt area
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats[0]


def _keypoint_ann(coco_root):
    return osp.join(coco_root, 'annotations', 'person_keypoints_val2017.json')


def _weights(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


def test_pose_training_writes_checkpoints_and_evaluates(pose_run, pose_test,
                                                        coco_root):
    tmp, _ = pose_run
    work = tmp / 'full'
    assert (work / 'epoch_1.pth').is_file() and (work / 'epoch_2.pth').is_file()
    records = scalar_records(work)
    aps = [r['coco/AP'] for r in records if 'coco/AP' in r]
    # one validation, after epoch 2: the AP of the epoch-2 weights, which
    # tools/test.py's dumped predictions give
    _, _, preds = pose_test
    assert len(aps) == 1
    assert aps[0] == pytest.approx(
        coco_keypoint_ap(_keypoint_ann(coco_root), preds), abs=1e-9)


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


def test_pose_test_reports_coco_ap_and_draws_keypoints(pose_test, coco_root):
    out, proc, preds = pose_test
    metrics = json.loads((out / 'metrics.json').read_text())
    # the AP of the predictions it dumped, one per person box
    assert metrics['coco/AP'] == pytest.approx(
        coco_keypoint_ap(_keypoint_ann(coco_root), preds), abs=1e-9)
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
         str(tmp_path / 't'), '--show-dir', 'vis', '--out',
         str(tmp_path / 't' / 'preds.pkl')])
    metrics = json.loads((tmp_path / 't' / 'metrics.json').read_text())
    with open(tmp_path / 't' / 'preds.pkl', 'rb') as f:
        preds = pickle.load(f)
    # mmseg's IoUMetric reports percent rounded to 2 decimals
    assert metrics['mIoU'] == pytest.approx(
        ade_miou(ade_root, preds), abs=0.005 + 1e-9)
    # (the micro run's mIoU is 0; the recomputation gives 100 to the
    # ground truth itself)
    perfect = [dict(p, pred_sem_seg=dict(
        data=torch.from_numpy(_ade_labels(p['seg_map_path']))[None]))
        for p in preds]
    assert ade_miou(ade_root, perfect) == pytest.approx(100.0)
    overlays = list((tmp_path / 't').glob('**/vis/**/*.png'))
    assert len(overlays) == 2


def _ade_labels(png_path, ignore_index=255):
    """A validation PNG's labels after reduce_zero_label."""
    png = np.asarray(Image.open(png_path)).astype(np.int64)
    gt = np.where(png == 0, ignore_index, png - 1)
    gt[gt == 254] = ignore_index
    return gt


def ade_miou(ade_root, preds, num_classes=150, ignore_index=255):
    """mIoU (percent) of dumped label maps against the validation PNGs, as
    mmseg's IoUMetric computes it: ADE20K's reduce_zero_label (PNG value 0,
    "other", is ignored, class c is value c + 1), per-class intersection
    and union summed over the dataset, mean over the classes with a
    non-empty union."""
    pngs = sorted(osp.join(dp, f) for dp, _, fs in
                  os.walk(osp.join(ade_root, 'annotations', 'validation'))
                  for f in fs if f.endswith('.png'))
    assert sorted(p['seg_map_path'] for p in preds) == pngs
    inter = np.zeros(num_classes)
    union = np.zeros(num_classes)
    for p in preds:
        gt = _ade_labels(p['seg_map_path'], ignore_index)
        pred = np.asarray(p['pred_sem_seg']['data']).squeeze(0)
        assert pred.shape == gt.shape
        keep = gt != ignore_index
        g, q = gt[keep], pred[keep]
        area_i = np.bincount(g[g == q], minlength=num_classes)
        area_g = np.bincount(g, minlength=num_classes)
        area_p = np.bincount(q, minlength=num_classes)
        inter += area_i
        union += area_g + area_p - area_i
    present = union > 0
    return 100.0 * float(np.mean(inter[present] / union[present]))


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
