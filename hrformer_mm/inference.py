"""Run a trained model on pictures: images, folders of images, videos.

:func:`infer` writes, into a folder, one overlay per picture (pose:
skeleton, keypoints and their scores; segmentation: colour mask and a
legend of the classes present), for segmentation also the label map as
``<name>_mask.png`` (class index per pixel), and ``predictions.json`` with
every prediction.  Pose configs are top-down: person boxes come from an
mmdet detector (:class:`PersonDetector`, as mmpose's
``demo/topdown_demo_with_mmdet.py`` chains them), from a COCO-style JSON
(:func:`load_bboxes`) or are the whole image.  ``tools/infer.py`` is the
command line.
"""
import json
import os
import os.path as osp
import sys
from functools import partial

import cv2
import numpy as np
import torch

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')


# -- inputs ------------------------------------------------------------------
def collect_inputs(paths):
    """``(name, kind, path)`` per picture source: kind 'image' or 'video'."""
    items = []
    for path in paths:
        if osp.isdir(path):
            for root, _, files in sorted(os.walk(path)):
                items += [(osp.join(root, f), 'image') for f in sorted(files)
                          if f.lower().endswith(IMAGE_EXTS)]
        elif not osp.isfile(path):
            raise FileNotFoundError(f'input {path} not found')
        elif path.lower().endswith(VIDEO_EXTS):
            items.append((path, 'video'))
        else:
            items.append((path, 'image'))
    return items


def count_pictures(items) -> int:
    total = 0
    for path, kind in items:
        if kind == 'video':
            cap = cv2.VideoCapture(path)
            total += max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
            cap.release()
        else:
            total += 1
    return total


def iter_pictures(items):
    """``(source, name, BGR image)`` for every image and video frame."""
    from hrformer_mm.datasets.transforms import ImageDecodeError
    for path, kind in items:
        stem = osp.splitext(osp.basename(path))[0]
        if kind == 'image':
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                raise ImageDecodeError(f'cannot read image {path}')
            yield path, stem, img
            continue
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            raise ImageDecodeError(f'cannot open video {path}')
        k = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield f'{path}#{k}', f'{stem}_frame{k:06d}', frame
            k += 1
        cap.release()


# -- person boxes ------------------------------------------------------------
def load_bboxes(path: str, thr: float):
    """Boxes per image, keyed by file name and by numeric image id, as
    ``[x1, y1, x2, y2, score]`` rows."""
    with open(path) as f:
        data = json.load(f)
    by_key = {}
    if isinstance(data, dict):
        names = {im['id']: im['file_name'] for im in data.get('images', [])}
        records = [dict(a, file_name=names.get(a['image_id']))
                   for a in data.get('annotations', [])]
    else:
        records = data
    for r in records:
        x, y, w, h = r['bbox']
        score = r.get('score', 1.0)
        if score < thr:
            continue
        key = osp.basename(r['file_name']) if r.get('file_name') else \
            int(r['image_id'])
        by_key.setdefault(key, []).append([x, y, x + w, y + h, score])
    return by_key


def boxes_for(by_key, source: str, img: np.ndarray) -> np.ndarray:
    if by_key is None:
        h, w = img.shape[:2]
        return np.array([[0, 0, w, h, 1.0]], np.float32)
    base = osp.basename(source.split('#')[0])
    rows = by_key.get(base)
    if rows is None:
        stem = osp.splitext(base)[0]
        rows = by_key.get(int(stem)) if stem.isdigit() else None
    return np.array(rows or [], np.float32).reshape(-1, 5)


def select_person_boxes(bboxes: np.ndarray, scores: np.ndarray,
                        labels: np.ndarray, cat_id: int, score_thr: float,
                        nms_thr: float) -> np.ndarray:
    """The boxes of class ``cat_id`` scoring above ``score_thr``, after
    greedy NMS at IoU ``nms_thr`` (mmpose's demos' rule, with mmpose's
    ``nms``), as ``[x1, y1, x2, y2, score]`` rows, best first."""
    from mmpose.evaluation.functional import nms
    keep = (labels == cat_id) & (scores > score_thr)
    dets = np.concatenate([np.asarray(bboxes, np.float32)[keep].reshape(
        -1, 4), np.asarray(scores, np.float32)[keep, None]], axis=1)
    if not len(dets):
        return dets
    return dets[nms(dets, nms_thr)]


class PersonDetector:
    """An mmdet detector (``init_detector`` + ``inference_detector``) whose
    class ``cat_id`` boxes are the people a top-down pose model reads."""

    def __init__(self, config: str, checkpoint, device: str, cat_id: int = 0,
                 score_thr: float = 0.3, nms_thr: float = 0.3):
        from mmdet.apis import init_detector
        from mmdet.models.detectors import BaseDetector
        from mmpose.utils import adapt_mmdet_pipeline
        cfg = load_config(config)
        if cfg.get('default_scope') != 'mmdet':
            raise ValueError(
                f'--det-config {config} is not an mmdet detector config '
                f'(default_scope {cfg.get("default_scope")!r}, not '
                "'mmdet'); pass a detection config such as "
                'configs/det/hrnetv2p_w32_faster_rcnn_coco.py')
        from mmengine.runner import load_checkpoint

        # init_detector falls back on COCO's 80 names (and warns so) when
        # the checkpoint has no class names: load the weights here and take
        # the names from the config then, which name what this head predicts
        self.model = init_detector(cfg, None, device='cpu')
        if not isinstance(self.model, BaseDetector):
            raise ValueError(f'--det-config {config} builds a '
                             f'{type(self.model).__name__}, not a detector')
        meta = {}
        if checkpoint is not None:
            ckpt = load_checkpoint(self.model, checkpoint, map_location='cpu')
            meta = ckpt.get('meta') or {}
        if meta.get('dataset_meta'):
            self.model.dataset_meta = {
                k.lower(): v for k, v in meta['dataset_meta'].items()}
        elif meta.get('CLASSES'):  # mmdet 2.x checkpoints
            self.model.dataset_meta = dict(classes=meta['CLASSES'])
        else:
            from mmdet.registry import DATASETS
            self.model.dataset_meta = dict(
                classes=tuple(config_metainfo(cfg, DATASETS)['classes']))
        self.model.to(device)
        classes = self.model.dataset_meta['classes']
        if not 0 <= cat_id < len(classes):
            raise ValueError(
                f'--det-cat-id {cat_id} is out of range: the detector has '
                f'{len(classes)} classes (0: {classes[0]!r} ... '
                f'{len(classes) - 1}: {classes[-1]!r})')
        # inference_detector builds its pipeline under mmpose's default
        # scope here: the transforms need the mmdet. prefix
        self.model.cfg = adapt_mmdet_pipeline(self.model.cfg)
        self.category = classes[cat_id]
        self.cat_id, self.score_thr, self.nms_thr = cat_id, score_thr, nms_thr

    def __call__(self, source: str, img: np.ndarray) -> np.ndarray:
        """The person boxes of ``img`` (``source`` names it; a detector
        reads only the pixels)."""
        from mmdet.apis import inference_detector
        pred = inference_detector(self.model, img).pred_instances
        pred = pred.cpu().numpy()
        return select_person_boxes(pred.bboxes, pred.scores, pred.labels,
                                   self.cat_id, self.score_thr,
                                   self.nms_thr)

    def describe(self) -> dict:
        return dict(category=self.category, cat_id=self.cat_id,
                    score_thr=self.score_thr, nms_thr=self.nms_thr)


# -- models ----------------------------------------------------------------
def load_config(path: str):
    from mmengine.config import Config

    from hrformer_mm.engine.launch import replace_syncbn
    cfg = Config.fromfile(path)
    replace_syncbn(cfg.model)  # one process: SyncBN has nothing to sync
    return cfg


def config_metainfo(cfg, datasets) -> dict:
    """The metainfo (class names, palette) of ``cfg``'s test dataset: its
    class's ``METAINFO`` in the host's ``datasets`` registry, updated by the
    config's ``metainfo``."""
    dataset = cfg.test_dataloader.dataset
    meta = dict(datasets.get(dataset.type).METAINFO)
    meta.update(dataset.get('metainfo') or {})
    return meta


def checkpoint_arg(arg: str):
    return None if arg.lower() == 'none' else arg


class PosePredictor:
    """mmpose's ``init_model`` + ``inference_topdown`` + its visualizer."""

    def __init__(self, cfg, checkpoint, device, kpt_thr, find_boxes):
        """``find_boxes(source, img)`` gives the person boxes of a picture
        as ``[x1, y1, x2, y2, score]`` rows."""
        from mmpose.apis import init_model
        from mmpose.registry import VISUALIZERS
        self.model = init_model(cfg, checkpoint, device=device)
        self.visualizer = VISUALIZERS.build(
            dict(cfg.visualizer, name=f'hrformer_mm_infer_{id(self)}'))
        self.visualizer.set_dataset_meta(self.model.dataset_meta)
        self.kpt_thr = kpt_thr
        self.find_boxes = find_boxes

    def __call__(self, source, img):
        from mmpose.apis import inference_topdown
        from mmpose.structures import merge_data_samples
        boxes = self.find_boxes(source, img)
        instances = []
        overlay = img[..., ::-1].copy()
        if len(boxes):
            samples = inference_topdown(self.model, img, boxes[:, :4],
                                        bbox_format='xyxy')
            merged = merge_data_samples(samples)
            self.visualizer.add_datasample(
                'infer', overlay, merged, draw_gt=False, draw_bbox=True,
                draw_heatmap=False, kpt_thr=self.kpt_thr, show=False)
            overlay = self.visualizer.get_image()
            pred = merged.pred_instances
            for k in range(len(boxes)):
                instances.append(dict(
                    bbox=boxes[k, :4].tolist(), bbox_score=float(boxes[k, 4]),
                    keypoints=pred.keypoints[k].tolist(),
                    keypoint_scores=pred.keypoint_scores[k].tolist()))
        overlay = np.ascontiguousarray(overlay[..., ::-1])
        self._draw_scores(overlay, instances)
        return overlay, dict(instances=instances), {}

    def _draw_scores(self, img, instances):
        for inst in instances:
            for (x, y), s in zip(inst['keypoints'], inst['keypoint_scores']):
                if s >= self.kpt_thr:
                    cv2.putText(img, f'{s:.2f}', (int(x) + 3, int(y) - 3),
                                cv2.FONT_HERSHEY_SIMPLEX, 0.3, (255, 255, 255),
                                1, cv2.LINE_AA)


class SegPredictor:
    """mmseg's ``init_model`` + ``inference_model`` + its visualizer, plus a
    legend of the classes present."""

    def __init__(self, cfg, checkpoint, device):
        from mmengine.runner import load_checkpoint
        from mmseg.apis import init_model
        from mmseg.visualization import SegLocalVisualizer
        # mmseg's init_model guesses class names from decode_head.num_classes
        # when a checkpoint lacks them, which fails for cascaded (OCR) heads:
        # load the weights here and take the names from the config instead.
        self.model = init_model(cfg, None, device='cpu')
        meta = None
        if checkpoint is not None:
            ckpt = load_checkpoint(self.model, checkpoint, map_location='cpu')
            meta = (ckpt.get('meta') or {}).get('dataset_meta')
        if not meta:
            from mmseg.registry import DATASETS
            meta = config_metainfo(cfg, DATASETS)
        self.model.dataset_meta = meta
        self.model.to(device)
        self.visualizer = SegLocalVisualizer(
            name=f'hrformer_mm_infer_{id(self)}', alpha=0.6)
        self.visualizer.set_dataset_meta(**{
            k: self.model.dataset_meta[k] for k in ('classes', 'palette')})

    def __call__(self, source, img):
        from mmseg.apis import inference_model
        sample = inference_model(self.model, img)
        mask = sample.pred_sem_seg.data[0].cpu().numpy()
        self.visualizer.add_datasample('infer', img[..., ::-1].copy(), sample,
                                       draw_gt=False, with_labels=False,
                                       show=False)
        overlay = np.ascontiguousarray(self.visualizer.get_image()[..., ::-1])
        classes = self.model.dataset_meta['classes']
        palette = self.model.dataset_meta['palette']
        ids, counts = np.unique(mask, return_counts=True)
        present = [dict(id=int(i), name=classes[i], pixels=int(c))
                   for i, c in sorted(zip(ids, counts), key=lambda t: -t[1])]
        draw_legend(overlay, present, palette)
        return overlay, dict(classes_present=present), dict(mask=mask)


def draw_legend(img, present, palette, max_rows: int = 12) -> None:
    """Colour swatch and class name per class present, in the top-left
    corner on a dark box (the picture keeps its size)."""
    rows = present[:max_rows]
    if not rows:
        return
    font, scale, line = cv2.FONT_HERSHEY_SIMPLEX, 0.35, 12
    width = 18 + max(cv2.getTextSize(r['name'], font, scale, 1)[0][0]
                     for r in rows)
    h = min(img.shape[0], 4 + line * len(rows))
    w = min(img.shape[1], width + 4)
    img[:h, :w] = (img[:h, :w] * 0.3).astype(img.dtype)
    for k, r in enumerate(rows):
        y = 4 + line * k
        r_, g, b = palette[r['id']]
        cv2.rectangle(img, (4, y), (12, y + 8), (int(b), int(g), int(r_)), -1)
        cv2.putText(img, r['name'], (16, y + 8), font, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)


def infer(config: str, checkpoint: str, inputs, out: str,
          device: str = 'cpu', bboxes: str = None, bbox_thr: float = 0.,
          kpt_thr: float = 0.3, det_config: str = None,
          det_checkpoint: str = None, det_cat_id: int = 0,
          det_score_thr: float = 0.3, det_nms_thr: float = 0.3) -> dict:
    """Predict every picture of ``inputs`` (files, folders, videos) with
    ``config``'s model and ``checkpoint`` (a file or URL, or ``none``: the
    randomly initialised model); write the overlays and predictions.json
    into ``out``; return what predictions.json holds.

    A pose model reads one box per person: with ``det_config`` and
    ``det_checkpoint`` an mmdet detector finds them (class ``det_cat_id``,
    score above ``det_score_thr``, NMS at IoU ``det_nms_thr``), with
    ``bboxes`` a box file gives them, else the whole picture is one."""
    from mmengine.utils import ProgressBar
    cfg = load_config(config)
    weights = checkpoint_arg(checkpoint)
    items = collect_inputs(inputs)
    scope = cfg.get('default_scope')
    if scope != 'mmpose' and (det_config or bboxes):
        raise ValueError(f'--det-config and --bboxes are for top-down pose '
                         f'configs; {config} is {scope!r}')
    if det_config and bboxes:
        raise ValueError('pass either --det-config (a detector finds the '
                         'people) or --bboxes (a box file), not both')
    if bool(det_config) != bool(det_checkpoint):
        raise ValueError('--det-config and --det-checkpoint go together '
                         '(a checkpoint file or URL, or "none")')
    detector = None
    if scope == 'mmpose':
        task = 'pose'
        if det_config:
            detector = PersonDetector(det_config,
                                      checkpoint_arg(det_checkpoint), device,
                                      det_cat_id, det_score_thr, det_nms_thr)
            find_boxes = detector
        else:
            find_boxes = partial(boxes_for, load_bboxes(bboxes, bbox_thr)
                                 if bboxes else None)
        predict = PosePredictor(cfg, weights, device, kpt_thr, find_boxes)
    elif scope == 'mmseg':
        task = 'seg'
        predict = SegPredictor(cfg, weights, device)
    else:
        raise ValueError(f'{config}: default_scope must be mmpose or '
                         f'mmseg, got {scope!r}')
    os.makedirs(out, exist_ok=True)
    results = []
    progress = ProgressBar(count_pictures(items), file=sys.stdout)
    used = set()
    nobody = []
    for source, name, img in iter_pictures(items):
        while name in used:  # same file name in two folders
            name += '_'
        used.add(name)
        with torch.no_grad():
            overlay, prediction, extra = predict(source, img)
        if detector is not None and not prediction['instances']:
            nobody.append(source)
        record = dict(input=source, overlay=f'{name}.png',
                      height=img.shape[0], width=img.shape[1], **prediction)
        cv2.imwrite(osp.join(out, record['overlay']), overlay)
        if 'mask' in extra:
            record['mask'] = f'{name}_mask.png'
            cv2.imwrite(osp.join(out, record['mask']),
                        extra['mask'].astype(np.uint16 if extra['mask'].max()
                                             > 255 else np.uint8))
        results.append(record)
        progress.update()
    record = dict(task=task, config=config, checkpoint=checkpoint,
                  predictions=results)
    if detector is not None:
        record['detector'] = dict(config=det_config,
                                  checkpoint=det_checkpoint,
                                  **detector.describe())
    with open(osp.join(out, 'predictions.json'), 'w') as f:
        json.dump(record, f, indent=1)
    print(f'\nwrote {len(results)} overlays and predictions.json to {out}')
    if nobody:
        d = detector.describe()
        print(f'no person found (no {d["category"]!r} box, class '
              f'{d["cat_id"]}, scored above --det-score-thr '
              f'{d["score_thr"]}) in {len(nobody)} of {len(results)} '
              f'pictures: {", ".join(nobody[:5])}'
              f'{" ..." if len(nobody) > 5 else ""}')
    return record
