"""tools/infer.py on the built-in data: overlays of the input's size with
drawing where the predictions are, a predictions JSON that round-trips,
folders and videos, and a progress bar."""
import json

import cv2
import numpy as np
import pytest
import torch

from hrformer_mm.datasets import generate_ade20k, generate_coco_keypoints
from hrformer_mm.engine.launch import build_model_from_config

from e2e_utils import load_tool, pose_config, seg_config


@pytest.fixture(scope='module')
def infer():
    return load_tool('infer.py')


def _random_checkpoint(cfg_path, out):
    """A randomly initialised model saved as a checkpoint (what the
    tool loads is the point here, not accuracy)."""
    torch.manual_seed(0)
    _, model = build_model_from_config(cfg_path)
    torch.save(dict(state_dict=model.state_dict(), meta=dict(seed=0)), out)
    return str(out)


@pytest.fixture(scope='module')
def pose_setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('infer_pose')
    root = tmp / 'coco'
    generate_coco_keypoints(str(root), num_train=1, num_val=3, seed=2)
    cfg = pose_config(tmp, str(root))
    return cfg, _random_checkpoint(cfg, tmp / 'pose.pth'), root


@pytest.fixture(scope='module')
def seg_setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('infer_seg')
    root = tmp / 'ade'
    generate_ade20k(str(root), num_train=1, num_val=2, seed=2)
    cfg = seg_config(tmp, str(root))
    return cfg, _random_checkpoint(cfg, tmp / 'seg.pth'), root


def test_pose_folder_with_boxes_draws_keypoints_and_round_trips(
        infer, pose_setup, tmp_path, capsys):
    cfg, ckpt, root = pose_setup
    boxes = root / 'person_detection_results' / \
        'COCO_val2017_detections_AP_H_56_person.json'
    out = infer.main([cfg, ckpt, str(root / 'val2017'), '--out',
                      str(tmp_path), '--device', 'cpu', '--bboxes',
                      str(boxes), '--kpt-thr', '0'])
    assert '3/3' in capsys.readouterr().out  # the progress bar
    saved = json.loads((tmp_path / 'predictions.json').read_text())
    assert saved == json.loads(json.dumps(out))
    preds = saved['predictions']
    assert len(preds) == 3
    n_boxes = len(json.loads(boxes.read_text()))
    assert sum(len(p['instances']) for p in preds) == n_boxes
    for p in preds:
        src = cv2.imread(p['input'])
        overlay = cv2.imread(str(tmp_path / p['overlay']))
        assert overlay.shape == src.shape == (p['height'], p['width'], 3)
        for inst in p['instances']:
            assert len(inst['keypoints']) == len(inst['keypoint_scores']) \
                == 17
            changed = [np.abs(overlay[int(y), int(x)].astype(int) -
                              src[int(y), int(x)]).sum() > 30
                       for x, y in inst['keypoints']
                       if 0 <= x < p['width'] and 0 <= y < p['height']]
            assert changed and np.mean(changed) > 0.5  # a dot on each


def test_pose_without_boxes_uses_the_whole_image(infer, pose_setup,
                                                 tmp_path):
    cfg, ckpt, root = pose_setup
    img = sorted((root / 'val2017').iterdir())[0]
    out = infer.main([cfg, ckpt, str(img), '--out', str(tmp_path),
                      '--device', 'cpu'])
    (pred, ) = out['predictions']
    (inst, ) = pred['instances']
    assert inst['bbox'] == [0, 0, pred['width'], pred['height']]


def test_segmentation_video_frames_get_masks_and_a_legend(
        infer, seg_setup, tmp_path):
    cfg, ckpt, root = seg_setup
    frames = [cv2.imread(str(p)) for p in
              sorted((root / 'images' / 'validation').iterdir())]
    h, w = frames[0].shape[:2]
    video = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (w, h))
    for f in frames + frames[:1]:
        writer.write(cv2.resize(f, (w, h)))
    writer.release()
    out_dir = tmp_path / 'out'
    out = infer.main([cfg, ckpt, video, '--out', str(out_dir), '--device',
                      'cpu'])
    preds = out['predictions']
    assert [p['input'] for p in preds] == [f'{video}#{k}' for k in range(3)]
    for p in preds:
        overlay = cv2.imread(str(out_dir / p['overlay']))
        mask = cv2.imread(str(out_dir / p['mask']), cv2.IMREAD_UNCHANGED)
        assert overlay.shape == (h, w, 3) and mask.shape == (h, w)
        ids, counts = np.unique(mask, return_counts=True)
        assert {c['id']: c['pixels'] for c in p['classes_present']} == \
            dict(zip(ids.tolist(), counts.tolist()))
        # legend: the largest class's swatch in the top-left corner
        top = p['classes_present'][0]
        from mmseg.datasets import ADE20KDataset
        r, g, b = ADE20KDataset.METAINFO['palette'][top['id']]
        assert overlay[8, 8].tolist() == pytest.approx([b, g, r], abs=30)
        assert top['name'] == ADE20KDataset.METAINFO['classes'][top['id']]


def test_missing_input_is_named(infer, seg_setup, tmp_path):
    cfg, ckpt, _ = seg_setup
    with pytest.raises(FileNotFoundError, match='nope.jpg'):
        infer.main([cfg, ckpt, str(tmp_path / 'nope.jpg'), '--out',
                    str(tmp_path)])
