"""Synthetic objects in COCO instance format (boxes and instance masks):
the stick figures of :mod:`.coco`, the cars of :mod:`.ade20k` and textured
balls over the same procedural backgrounds, drawn one over another so that
later objects hide parts of earlier ones.

Each annotation describes what is *visible* of an object, as COCO's do: the
segmentation is the visible mask as compressed RLE (exact, unlike polygons
traced from a pixel mask), the box its tight bounding box and the area its
pixel count.  Category names and ids are COCO's own (person 1, car 3,
sports ball 37), so mmdet's ``CocoDataset`` with ``metainfo=dict(classes=
DET_CLASSES)`` and pycocotools' ``COCOeval`` read the files unchanged.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

from .ade20k import draw_car
from .coco import COCO_AREA_RANGES, draw_person
from .textures import background, paste, texture

__all__ = ['DET_CLASSES', 'DET_CATEGORY_IDS', 'draw_ball',
           'generate_coco_detection']

DET_CLASSES = ('person', 'car', 'sports ball')
DET_CATEGORY_IDS = (1, 3, 37)  # COCO's ids for these names
# Objects this many visible pixels or fewer are left unannotated (as COCO's
# annotators skip near-invisible ones); their pixels stay in the image.
MIN_VISIBLE_PIXELS = 40


def draw_ball(rng: np.random.Generator, img: np.ndarray,
              radius=(0.06, 0.15), centre=(0., 1.)) -> np.ndarray:
    """A textured disc with a light highlight, ``radius`` (a range, fraction
    of the image side; 6-15 % by default) in radius, its centre's x and y in
    ``centre`` (fractions of the width and height); drawn in place, returns
    its mask."""
    h, w = img.shape[:2]
    r = int(rng.uniform(*radius) * min(h, w))
    cx = int(rng.uniform(*centre) * w)
    cy = int(rng.uniform(*centre) * h)
    m = np.zeros((h, w), np.uint8)
    cv2.circle(m, (cx, cy), max(r, 3), 1, -1)
    m = m.astype(bool)
    paste(img, texture(rng, h, w), m)
    # the highlight makes a ball tell from a round patch of background
    glint = np.zeros((h, w), np.uint8)
    cv2.circle(glint, (cx - r // 3, cy - r // 3), max(1, r // 4), 1, -1)
    glint = glint.astype(bool) & m
    img[glint] = np.clip(img[glint].astype(np.int32) + 90, 0,
                         255).astype(np.uint8)
    return m


def _draw_object(rng: np.random.Generator, img: np.ndarray, label: int,
                 horizon: float) -> np.ndarray:
    h, w = img.shape[:2]
    name = DET_CLASSES[label]
    if name == 'person':
        height = rng.uniform(0.4, 0.9) * h
        _, mask = draw_person(rng, img, rng.uniform(0.1, 0.9) * w,
                              rng.uniform(-0.05, 0.95 - height / h) * h,
                              height, limb_width=0.07)
        return mask
    if name == 'car':
        mask, tex = draw_car(rng, h, w, horizon)
        paste(img, tex, mask)
        return mask
    return draw_ball(rng, img)


def _encode(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def _det_image(rng: np.random.Generator, h: int, w: int,
               max_objects: int) -> Tuple[np.ndarray, List[dict]]:
    img = background(rng, h, w)
    horizon = rng.uniform(0.3, 0.6) * h
    drawn = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        label = int(rng.integers(len(DET_CLASSES)))
        drawn.append((label, _draw_object(rng, img, label, horizon)))
    img = np.clip(img.astype(np.float32) + rng.normal(0, 4, img.shape), 0,
                  255).astype(np.uint8)
    anns = []
    covered = np.zeros((h, w), bool)
    for label, mask in reversed(drawn):  # the last drawn is fully visible
        visible = mask & ~covered
        covered |= mask
        ys, xs = np.nonzero(visible)
        if len(xs) <= MIN_VISIBLE_PIXELS:
            continue
        x0, y0 = int(xs.min()), int(ys.min())
        anns.append(dict(
            bbox=[float(x0), float(y0), float(xs.max() - x0 + 1),
                  float(ys.max() - y0 + 1)],
            area=float(len(xs)), segmentation=_encode(visible), iscrowd=0,
            category_id=DET_CATEGORY_IDS[label]))
    return img, anns[::-1]


def generate_coco_detection(root: str, num_train: int = 300,
                            num_val: int = 60, image_size=(160, 160),
                            max_objects: int = 4, seed: int = 0) -> Dict:
    """Write a COCO-instances-format dataset under ``root``.

    Layout (as ``data/coco``): ``train2017/``, ``val2017/`` and
    ``annotations/instances_{train,val}2017.json``.  Each image holds 1 to
    ``max_objects`` objects of :data:`DET_CLASSES`.  Returns a summary:
    images, instances per class and per COCO area range.
    """
    rng = np.random.default_rng(seed)
    h, w = image_size
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    categories = [dict(id=i, name=n, supercategory=n)
                  for i, n in zip(DET_CATEGORY_IDS, DET_CLASSES)]
    names = dict(zip(DET_CATEGORY_IDS, DET_CLASSES))
    summary = {}
    ann_id = 1
    for split, count, offset in (('train2017', num_train, 1),
                                 ('val2017', num_val, 1_000_000)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        images, annotations = [], []
        for k in range(count):
            img_id = offset + k
            img, anns = _det_image(rng, h, w, max_objects)
            name = f'{img_id:012d}.jpg'
            cv2.imwrite(osp.join(root, split, name), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
            images.append(dict(id=img_id, file_name=name, width=w, height=h))
            for a in anns:
                a.update(id=ann_id, image_id=img_id)
                ann_id += 1
                annotations.append(a)
        coco = dict(info=dict(description='HRFormer-MM synthetic objects'),
                    licenses=[], images=images, annotations=annotations,
                    categories=categories)
        with open(osp.join(root, 'annotations', f'instances_{split}.json'),
                  'w') as f:
            json.dump(coco, f)
        per_class = {n: sum(a['category_id'] == i for a in annotations)
                     for i, n in names.items()}
        sizes = {n: sum(lo <= a['area'] < hi for a in annotations)
                 for n, (lo, hi) in COCO_AREA_RANGES.items()}
        summary[split] = dict(images=len(images),
                              instances=len(annotations), **per_class,
                              **sizes)
    return summary
