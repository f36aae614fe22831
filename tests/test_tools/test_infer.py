"""tools/infer.py on the built-in data: overlays of the input's size with
drawing where the predictions are, a predictions JSON that round-trips,
folders and videos, a progress bar, and people found by an mmdet detector
for a top-down pose model."""
import json

import cv2
import numpy as np
import pytest
import torch

from hrformer_mm.datasets import generate_ade20k, generate_coco_keypoints
from hrformer_mm.datasets.synthetic import generate_coco_detection
from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.inference import select_person_boxes

from e2e_utils import (PYTHON, det_demo_config, load_tool, pose_config, run,
                       seg_config)


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


def _random_setup(tmp_path_factory, task, generate, make_config, num_val):
    """A tiny synthetic set of ``task``, its config and a checkpoint of the
    model's random weights: ``(config, checkpoint, data root)``."""
    tmp = tmp_path_factory.mktemp(f'infer_{task}')
    root = tmp / 'data'
    generate(str(root), num_train=1, num_val=num_val, seed=2)
    cfg = make_config(tmp, str(root))
    return cfg, _random_checkpoint(cfg, tmp / f'{task}.pth'), root


@pytest.fixture(scope='module')
def pose_setup(tmp_path_factory):
    return _random_setup(tmp_path_factory, 'pose', generate_coco_keypoints,
                         pose_config, num_val=3)


@pytest.fixture(scope='module')
def seg_setup(tmp_path_factory):
    return _random_setup(tmp_path_factory, 'seg', generate_ade20k,
                         seg_config, num_val=2)


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


# -- people found by a detector ----------------------------------------------
def test_person_boxes_are_the_category_above_the_threshold_after_nms():
    bboxes = np.array([[10, 10, 50, 90],     # person .9
                       [12, 11, 52, 92],     # person .8, IoU .88 with ^
                       [100, 10, 140, 90],   # person .5
                       [100, 10, 140, 90],   # car .95
                       [200, 10, 240, 90],   # person .3: not above .3
                       [45, 10, 85, 90]],    # person .31, IoU .08 with 1st
                      np.float32)
    scores = np.array([.9, .8, .5, .95, .3, .31], np.float32)
    labels = np.array([0, 0, 0, 1, 0, 0])
    kept = select_person_boxes(bboxes, scores, labels, cat_id=0,
                               score_thr=.3, nms_thr=.3)
    assert kept.shape == (3, 5)
    np.testing.assert_allclose(kept[:, :4], bboxes[[0, 2, 5]])
    np.testing.assert_allclose(kept[:, 4], [.9, .5, .31])
    # IoU .86 is kept when only a larger overlap suppresses
    assert len(select_person_boxes(bboxes, scores, labels, 0, .3, .9)) == 4
    car = select_person_boxes(bboxes, scores, labels, 1, .3, .3)
    np.testing.assert_allclose(car, [[100, 10, 140, 90, .95]])
    assert select_person_boxes(bboxes, scores, labels, 0, .95, .3).shape \
        == (0, 5)


@pytest.fixture(scope='module')
def det_untrained(tmp_path_factory):
    """The detection demo's 3-class detector config (person, car, sports
    ball); its checkpoint is "none" (random weights)."""
    tmp = tmp_path_factory.mktemp('det_cfg')
    return det_demo_config(tmp, str(tmp / 'coco_det'))


def test_detector_config_must_be_an_mmdet_detector(infer, pose_setup,
                                                   tmp_path):
    cfg, ckpt, root = pose_setup
    img = str(sorted((root / 'val2017').iterdir())[0])
    with pytest.raises(ValueError, match="not an mmdet detector config "
                       r"\(default_scope 'mmpose'"):
        infer.main([cfg, ckpt, img, '--out', str(tmp_path), '--device',
                    'cpu', '--det-config', cfg, '--det-checkpoint', ckpt])


def test_detector_category_out_of_range_is_named(infer, pose_setup,
                                                 det_untrained, tmp_path):
    cfg, ckpt, root = pose_setup
    img = str(sorted((root / 'val2017').iterdir())[0])
    with pytest.raises(ValueError, match=r"--det-cat-id 3 is out of range: "
                       r"the detector has 3 classes \(0: 'person' \.\.\. "
                       r"2: 'sports ball'\)"):
        infer.main([cfg, ckpt, img, '--out', str(tmp_path), '--device',
                    'cpu', '--det-config', det_untrained,
                    '--det-checkpoint', 'none', '--det-cat-id', '3'])


def test_detector_and_box_file_exclude_each_other(infer, pose_setup,
                                                  det_untrained, tmp_path):
    cfg, ckpt, root = pose_setup
    boxes = root / 'person_detection_results' / \
        'COCO_val2017_detections_AP_H_56_person.json'
    with pytest.raises(ValueError, match='not both'):
        infer.main([cfg, ckpt, str(root / 'val2017'), '--out',
                    str(tmp_path), '--bboxes', str(boxes), '--det-config',
                    det_untrained, '--det-checkpoint', 'none'])


def test_no_person_found_is_said_and_the_picture_kept(
        infer, pose_setup, det_untrained, tmp_path, capsys):
    cfg, ckpt, root = pose_setup
    img = sorted((root / 'val2017').iterdir())[0]
    # scores are at most 1: nothing scores above it
    out = infer.main([cfg, ckpt, str(img), '--out', str(tmp_path),
                      '--device', 'cpu', '--det-config', det_untrained,
                      '--det-checkpoint', 'none', '--det-score-thr', '1'])
    assert "no person found (no 'person' box, class 0, scored above " \
        "--det-score-thr 1.0) in 1 of 1 pictures" in capsys.readouterr().out
    (pred, ) = out['predictions']
    assert pred['instances'] == []
    assert out['detector']['category'] == 'person'
    overlay = cv2.imread(str(tmp_path / pred['overlay']))
    assert np.array_equal(overlay, cv2.imread(str(img)))


# the micro run: one epoch of two batches of two
EPOCH_IMAGES = 4
# a generated picture of several people (the 'small' setting: 2 to 6), and
# a threshold the micro-trained detector's person boxes pass (at 0.05, the
# RoI head's own test threshold, eight remain after NMS on this picture)
PICTURE_SEED = 0
SCORE_THR = 0.05


@pytest.fixture(scope='module')
def micro_detector(tmp_path_factory):
    """The detection demo's detector after a micro run of tools/train.py
    on the built-in people / cars / balls: its config and checkpoint."""
    tmp = tmp_path_factory.mktemp('det_micro')
    root = str(tmp / 'coco_det')
    generate_coco_detection(root, num_train=EPOCH_IMAGES, num_val=2,
                            seed=1)
    cfg = det_demo_config(tmp, root, epochs=1)
    run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(tmp / 'work')])
    return cfg, str(tmp / 'work' / 'epoch_1.pth')



def _iou(a, b):
    """IoU with mmpose's nms convention (a box covers x2 - x1 + 1
    pixels)."""
    w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    inter = max(w, 0) * max(h, 0)
    area = [(r[2] - r[0] + 1) * (r[3] - r[1] + 1) for r in (a, b)]
    return inter / (sum(area) - inter)


def _check_person_boxes(instances, detector, img, score_thr, nms_thr):
    """The instances' boxes are the detector's person boxes above
    ``score_thr`` that greedy NMS keeps: each kept box is a detection,
    kept boxes overlap at most ``nms_thr``, and every other detection
    overlaps a kept, higher-scoring one by more."""
    from mmdet.apis import inference_detector
    pred = inference_detector(detector, img).pred_instances.cpu().numpy()
    person = (pred.labels == 0) & (pred.scores > score_thr)
    dets = np.concatenate([pred.bboxes[person], pred.scores[person, None]],
                          1).tolist()
    kept = [inst['bbox'] + [inst['bbox_score']] for inst in instances]
    for k in kept:
        assert min(np.abs(np.subtract(d, k)).max() for d in dets) < 1e-3
    for i, a in enumerate(kept):
        assert all(_iou(a, b) <= nms_thr for b in kept[i + 1:])
    for d in dets:
        if min(np.abs(np.subtract(d, k)).max() for k in kept) > 1e-3:
            assert any(_iou(d, k) > nms_thr and k[4] >= d[4] for k in kept)
    return len(dets)


@pytest.mark.e2e
def test_detector_finds_the_people_and_each_gets_a_skeleton(
        infer, pose_setup, micro_detector, tmp_path):
    from mmdet.apis import init_detector
    from mmpose.utils import adapt_mmdet_pipeline
    _, pose_ckpt, coco_root = pose_setup
    # the heatmap maxima without DARK's sub-pixel refinement, which moves
    # an untrained model's keypoints anywhere
    pose_cfg = pose_config(tmp_path, str(coco_root), extra='model = dict('
                           'head=dict(decoder=dict(unbiased=False)))')
    det_cfg, det_ckpt = micro_detector
    people = tmp_path / 'people'
    generate_coco_keypoints(str(people), num_train=0, num_val=1,
                            people='small', seed=PICTURE_SEED)
    (picture, ) = (people / 'val2017').iterdir()
    img = cv2.imread(str(picture))
    h, w = img.shape[:2]
    video = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (w, h))
    for _ in range(2):
        writer.write(img)
    writer.release()
    out_dir = tmp_path / 'out'
    score_thr, nms_thr = SCORE_THR, 0.3
    out = infer.main([pose_cfg, pose_ckpt, str(picture), video, '--out',
                      str(out_dir), '--device', 'cpu', '--det-config',
                      det_cfg, '--det-checkpoint', det_ckpt,
                      '--det-score-thr', str(score_thr), '--kpt-thr', '0'])
    detector = init_detector(det_cfg, det_ckpt, device='cpu')
    detector.cfg = adapt_mmdet_pipeline(detector.cfg)
    preds = out['predictions']
    assert [p['input'] for p in preds] == \
        [str(picture), f'{video}#0', f'{video}#1']
    cap = cv2.VideoCapture(video)
    try:
        frames = [img] + [cap.read()[1] for _ in range(2)]
    finally:
        cap.release()
    from mmengine.config import Config
    codec = Config.fromfile(pose_cfg).codec
    aspect = np.divide(*codec.input_size)
    for p, frame in zip(preds, frames):
        instances = p['instances']
        _check_person_boxes(instances, detector, frame, score_thr, nms_thr)
        overlay = cv2.imread(str(out_dir / p['overlay']))
        assert overlay.shape == frame.shape
        changed = np.abs(overlay.astype(int) - frame).sum(-1) > 30
        for inst in instances:
            # the keypoints lie in the region the pose model saw: the box
            # at the model's aspect ratio, 1.25 times larger, give or take
            # a heatmap pixel (mmpose places a keypoint whose heatmap has
            # no positive value at -1)
            x1, y1, x2, y2 = inst['bbox']
            bw, bh = x2 - x1, y2 - y1
            region = np.array([max(bw, bh * aspect), max(bh, bw / aspect)])
            region *= 1.25
            kpts = np.array(inst['keypoints'])
            assert kpts.shape == (17, 2)
            assert np.all(np.abs(kpts - [(x1 + x2) / 2, (y1 + y2) / 2])
                          <= region / 2 + region / codec.heatmap_size + 1)
            # its box is drawn: the overlay differs along the box's edges
            xs = np.clip(np.linspace(x1, x2, 20).astype(int), 0, w - 1)
            ys = np.clip(np.linspace(y1, y2, 20).astype(int), 0, h - 1)
            edges = np.concatenate([
                changed[np.clip(int(y1), 0, h - 1), xs],
                changed[np.clip(int(y2), 0, h - 1), xs],
                changed[ys, np.clip(int(x1), 0, w - 1)],
                changed[ys, np.clip(int(x2), 0, w - 1)]])
            assert edges.mean() > 0.5
    assert len(preds[0]['instances']) >= 2

