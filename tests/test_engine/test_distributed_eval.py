"""tools/dist_test.sh with 2 CPU processes (torchrun, gloo) evaluates the
same predictions as a single process: same COCO AP, same mIoU."""
import json
import pickle
import socket

import numpy as np
import pytest
import torch

from hrformer_mm.datasets import (ADE20K_DEMO_CLASSES, generate_ade20k,
                                  generate_coco_keypoints)
from hrformer_mm.engine.launch import build_model_from_config

from e2e_utils import PYTHON, pose_config, run, seg_config

pytestmark = pytest.mark.e2e

# run() hides any GPU from the tools: two processes cannot share one GPU
# with NCCL, and the point here is the gloo path.


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _checkpoint(cfg, path, seed, classes=None):
    torch.manual_seed(seed)
    _, model = build_model_from_config(cfg)
    if classes is not None:
        # A random segmentation head predicts one class everywhere, usually
        # absent from the scene (mIoU 0 on both sides proves little): bias
        # it towards the classes the scenes hold, so the random features
        # pick among them pixel by pixel.
        with torch.no_grad():
            for head in model.decode_head:
                head.conv_seg.bias.fill_(-10.0)
                head.conv_seg.bias[classes] = 10.0
    torch.save(dict(state_dict=model.state_dict(), meta=dict(seed=seed)),
               path)
    return str(path)


def _single_and_dist(tmp_path, cfg, ckpt):
    results = {}
    for procs in (1, 2):
        work = tmp_path / f'p{procs}'
        opts = ['--work-dir', str(work), '--out', str(work / 'preds.pkl')]
        if procs == 1:
            run([PYTHON, 'tools/test.py', cfg, ckpt] + opts)
        else:
            run(['bash', 'tools/dist_test.sh', cfg, ckpt, '2'] + opts,
                env=dict(PYTHON=PYTHON, PORT=_free_port()))
        with open(work / 'preds.pkl', 'rb') as f:
            preds = pickle.load(f)
        results[procs] = (json.loads((work / 'metrics.json').read_text()),
                          preds)
    return results[1], results[2]


def test_two_process_pose_evaluation_matches_one_process(tmp_path):
    root = tmp_path / 'coco'
    generate_coco_keypoints(str(root), num_train=1, num_val=3, seed=3)
    cfg = pose_config(tmp_path, str(root))
    ckpt = _checkpoint(cfg, tmp_path / 'pose.pth', seed=1)
    (m1, p1), (m2, p2) = _single_and_dist(tmp_path, cfg, ckpt)
    boxes = json.loads((root / 'person_detection_results' /
                        'COCO_val2017_detections_AP_H_56_person.json'
                        ).read_text())
    # every person box exactly once (the sampler pads for 2 ranks; the
    # padding must be dropped), in the same order, with the same keypoints
    assert len(p1) == len(p2) == len(boxes)
    for a, b in zip(p1, p2):
        assert a['img_id'] == b['img_id']
        np.testing.assert_allclose(a['pred_instances']['keypoints'],
                                   b['pred_instances']['keypoints'],
                                   atol=1e-2)  # px; batches differ
    assert m1.keys() == m2.keys() and 'coco/AP' in m1
    for k in m1:
        assert m1[k] == pytest.approx(m2[k], abs=1e-6), k


def test_two_process_segmentation_evaluation_matches_one_process(tmp_path):
    root = tmp_path / 'ade'
    generate_ade20k(str(root), num_train=1, num_val=3, seed=3)
    cfg = seg_config(tmp_path, str(root))
    present = [i - 1 for i in ADE20K_DEMO_CLASSES.values()]  # reduce_zero
    ckpt = _checkpoint(cfg, tmp_path / 'seg.pth', seed=1, classes=present)
    (m1, p1), (m2, p2) = _single_and_dist(tmp_path, cfg, ckpt)
    assert len(p1) == len(p2) == 3
    for a, b in zip(p1, p2):
        assert a['img_path'] == b['img_path']
        assert torch.equal(a['pred_sem_seg']['data'],
                           b['pred_sem_seg']['data'])
    assert m1['mIoU'] > 0  # not a trivial 0 == 0
    for k in ('aAcc', 'mIoU', 'mAcc'):
        assert m1[k] == pytest.approx(m2[k], abs=1e-6), k
