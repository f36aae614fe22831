"""Synthetic people in COCO person-keypoints format: articulated stick
figures with the 17 COCO keypoints (face dots, shoulders, elbows, ...) in
random poses, over procedurally textured backgrounds, partly hidden by
textured occluders (visibility 1) or cut by the image border (visibility
0), sometimes overlapping each other."""
import json
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .textures import background as _background
from .textures import occluder as _occluder
from .textures import paste as _paste
from .textures import texture

__all__ = ['COCO_KEYPOINTS', 'COCO_SKELETON', 'PERSON_PARTS', 'draw_person',
           'generate_coco_keypoints', 'PEOPLE_SETTINGS', 'COCO_AREA_RANGES']

COCO_KEYPOINTS = [
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle'
]
# 1-based, as in the COCO annotation files.
COCO_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12],
                 [7, 13], [6, 7], [6, 8], [7, 9], [8, 10], [9, 11], [2, 3],
                 [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]
_LIMBS = [(5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14),
          (14, 16)]
# What :func:`draw_person` writes into its ``parts`` map, one id per part
# (0: not the figure).  Sides are the figure's own, as COCO's keypoints: the
# left arm is the one from ``left_shoulder``.  The head is a disc of the
# body's texture (hair) around a skin-toned face; the feet are the discs at
# the ankles.
PERSON_PARTS = ('background', 'hair', 'face', 'torso', 'left_arm',
                'right_arm', 'left_leg', 'right_leg', 'left_foot',
                'right_foot')
# keypoint -> part of the limbs and hinge discs drawn at it
_JOINT_PART = {5: 4, 7: 4, 9: 4, 6: 5, 8: 5, 10: 5, 11: 6, 13: 6, 12: 7,
               14: 7, 15: 8, 16: 9}


def _person_keypoints(rng: np.random.Generator, cx: float, top: float,
                      height: float) -> Tuple[np.ndarray, float]:
    """17 (x, y) keypoints of a figure facing the camera (its left on the
    image right), plus the head radius."""
    H = height
    lean = rng.normal(0, 0.12)
    head_r = 0.075 * H
    neck = np.array([cx, top + 2.1 * head_r])
    pelvis = neck + 0.36 * H * np.array([math.sin(lean), math.cos(lean)])
    head = neck + np.array([rng.normal(0, 0.02 * H), -1.1 * head_r])
    across = np.array([math.cos(lean), -math.sin(lean)])
    sho_w, hip_w = rng.uniform(0.10, 0.14) * H, rng.uniform(0.07, 0.10) * H
    kp = np.zeros((17, 2), np.float32)
    kp[0] = head + np.array([0, 0.25 * head_r])
    kp[1] = head + np.array([0.4 * head_r, -0.2 * head_r])
    kp[2] = head + np.array([-0.4 * head_r, -0.2 * head_r])
    kp[3] = head + np.array([0.95 * head_r, 0])
    kp[4] = head + np.array([-0.95 * head_r, 0])
    kp[5], kp[6] = neck + sho_w * across, neck - sho_w * across
    kp[11], kp[12] = pelvis + hip_w * across, pelvis - hip_w * across

    def limb(start, angle, length):
        return start + length * np.array([math.sin(angle), math.cos(angle)])

    for side, sign in ((0, 1), (1, -1)):  # 0: left (image right)
        # angles measured from straight down, positive towards image right
        a1 = sign * rng.uniform(-0.2, 1.6)
        a2 = a1 + sign * rng.uniform(-0.3, 1.4)
        kp[7 + side] = limb(kp[5 + side], a1, 0.17 * H)
        kp[9 + side] = limb(kp[7 + side], a2, 0.15 * H)
        l1 = sign * rng.uniform(-0.1, 0.6)
        l2 = l1 + rng.uniform(-0.5, 0.5)
        kp[13 + side] = limb(kp[11 + side], l1, 0.24 * H)
        kp[15 + side] = limb(kp[13 + side], l2, 0.23 * H)
    return kp, head_r


def draw_person(rng: np.random.Generator, canvas: np.ndarray, cx: float,
                top: float, height: float, limb_width: float = 0.045,
                parts: Optional[np.ndarray] = None
                ) -> Tuple[np.ndarray, np.ndarray]:
    """Draw a figure onto ``canvas`` (in place), limbs ``limb_width`` x
    ``height`` thick.  ``parts``, an (h, w) integer map, is overwritten
    with the :data:`PERSON_PARTS` id of every pixel the figure paints, in
    the order they are painted (the last one drawn is the one seen); it
    draws nothing from ``rng``, so the picture is the same without it.

    Returns its keypoints (17, 2) and its pixel mask.
    """
    h, w = canvas.shape[:2]
    kp, head_r = _person_keypoints(rng, cx, top, height)
    mask = np.zeros((h, w), np.uint8)
    body = texture(rng, h, w)
    limbs = texture(rng, h, w)
    thick = max(2, int(limb_width * height))
    label = _PartPainter(parts, mask.shape)
    torso = np.array([kp[5], kp[6], kp[12], kp[11]], np.int32)
    label(3, cv2.fillConvexPoly, torso, 1)
    cv2.fillConvexPoly(mask, torso, 1)
    part = np.zeros_like(mask)
    head_c = tuple(int(v) for v in (kp[3] + kp[4]) / 2)
    label(1, cv2.circle, head_c, int(head_r), 1, -1)
    for a, b in _LIMBS:
        line = (tuple(int(v) for v in kp[a]), tuple(int(v) for v in kp[b]),
                1, thick, cv2.LINE_AA)
        label(_JOINT_PART[a], cv2.line, *line)
        cv2.line(part, *line)
    for j in range(5, 17):  # hinge discs at shoulders, elbows, ... feet
        disc = (tuple(int(v) for v in kp[j]), thick, 1, -1)
        label(_JOINT_PART[j], cv2.circle, *disc)
        cv2.circle(part, *disc)
    cv2.circle(mask, head_c, int(head_r), 1, -1)
    _paste(canvas, body, mask.astype(bool))
    _paste(canvas, limbs, part.astype(bool))
    # Like a wooden mannequin, each joint is a darker hinge: a local cue for
    # the keypoint, while telling left from right and one person from another
    # still takes the figure's structure.
    hinge = (limbs.reshape(-1, 3).mean(0) * 0.45).tolist()
    for j in range(5, 17):
        cv2.circle(canvas, tuple(int(v) for v in kp[j]),
                   max(2, int(0.6 * thick)), hinge, -1, cv2.LINE_AA)
    # A skin-toned face with dark eyes and nose so the face keypoints are
    # visible cues, and ears as small discs on the sides.
    skin = np.array(rng.uniform([150, 110, 80], [240, 200, 170]))[::-1]
    cv2.circle(canvas, head_c, int(head_r * 0.85), skin.tolist(), -1)
    label(2, cv2.circle, head_c, int(head_r * 0.85), 1, -1)
    dark = (rng.uniform(0, 60, 3)).tolist()
    for j, r in ((0, 0.18), (1, 0.14), (2, 0.14)):
        cv2.circle(canvas, tuple(int(v) for v in kp[j]),
                   max(1, int(r * head_r)), dark, -1)
    for j in (3, 4):
        cv2.circle(canvas, tuple(int(v) for v in kp[j]),
                   max(1, int(0.22 * head_r)), (skin * 0.8).tolist(), -1)
        label(2, cv2.circle, tuple(int(v) for v in kp[j]),
              max(1, int(0.22 * head_r)), 1, -1)
    mask |= part
    return kp, mask.astype(bool)


class _PartPainter:
    """Paints one shape at a time (a cv2 drawing call with colour 1, as the
    figure's mask is drawn, anti-aliased edges included) and writes ``id``
    where it lands in ``parts``; a no-op when there is no ``parts``."""

    def __init__(self, parts: Optional[np.ndarray], shape):
        self.parts = parts
        self.shape = shape

    def __call__(self, part_id: int, draw, *args):
        if self.parts is None:
            return
        shape = np.zeros(self.shape, np.uint8)
        draw(shape, *args)
        self.parts[shape.astype(bool)] = part_id


def _coco_categories() -> List[dict]:
    return [dict(id=1, name='person', supercategory='person',
                 keypoints=COCO_KEYPOINTS, skeleton=COCO_SKELETON)]


# COCO's object-size ranges on ``area`` (pixels): AP(M) evaluates the
# medium people, AP(L) the large; small people only count in AP.
COCO_AREA_RANGES = dict(small=(0, 32**2), medium=(32**2, 96**2),
                        large=(96**2, float('inf')))

# How each ``people`` setting of :func:`generate_coco_keypoints` draws its
# figures: image (height, width), people per image, and figure height in
# pixels ('frac' of the image height for 'default') and the range of their
# horizontal centres (fraction of the width).
PEOPLE_SETTINGS = {
    # one or two large figures filling most of a 192x160 image
    'default': dict(image_size=(192, 160), max_people=2,
                    frac=(0.55, 0.95), cx=(0.2, 0.8)),
    # two to six figures 36-150 px tall on a 240x320 image: with the
    # annotation area 0.53 x box (below), measured on 600 training images,
    # 13 % are COCO-small (< 32^2), 83 % COCO-medium (32^2-96^2) and 3 %
    # large, so AP(M) carries the result, as in the HRPVT paper's target
    # regime.
    'small': dict(image_size=(240, 320), min_people=2, max_people=6,
                  pixels=(36, 150), cx=(0.08, 0.92)),
}


def _person_image(rng: np.random.Generator, h: int, w: int,
                  setting: dict) -> Tuple[np.ndarray, List[dict]]:
    img = _background(rng, h, w)
    people = []
    n = int(rng.integers(setting.get('min_people', 1),
                         setting['max_people'] + 1))
    for _ in range(n):
        if 'pixels' in setting:
            height = rng.uniform(*setting['pixels'])
        else:
            height = rng.uniform(*setting['frac']) * h
        cx = rng.uniform(*setting['cx']) * w
        top = rng.uniform(-0.1, 0.95 - height / h) * h
        kp, mask = draw_person(rng, img, cx, top, height)
        people.append(dict(kp=kp, mask=mask))
    # later figures hide earlier ones; occluders hide some of everybody
    occluded = np.zeros((h, w), bool)
    for p in reversed(people):
        p['hidden'] = occluded.copy()
        occluded |= p['mask']
    for p in people:
        if rng.random() < 0.35:
            ys, xs = np.nonzero(p['mask'])
            if len(xs):
                box = (xs.min(), ys.min(), np.ptp(xs) + 1, np.ptp(ys) + 1)
                m = _occluder(rng, h, w, box)
                _paste(img, texture(rng, h, w), m)
                for q in people:
                    q['hidden'] |= m
    anns = []
    for p in people:
        visible_mask = p['mask'] & ~p['hidden']
        ys, xs = np.nonzero(visible_mask)
        if len(xs) < 50:
            continue
        kps = []
        for x, y in p['kp']:
            xi, yi = int(round(x)), int(round(y))
            if not (0 <= xi < w and 0 <= yi < h):
                kps += [0, 0, 0]
            else:
                hidden = p['hidden'][yi, xi]
                kps += [float(round(x, 2)), float(round(y, 2)),
                        1 if hidden else 2]
        num = sum(1 for v in kps[2::3] if v > 0)
        if num == 0:
            continue
        x0, y0 = float(xs.min()), float(ys.min())
        bw, bh = float(np.ptp(xs) + 1), float(np.ptp(ys) + 1)
        # COCO's area is the segmentation area of a solid body; a stick
        # figure's mask is far thinner, which would make OKS unfairly strict.
        # Use mmpose's stand-in for a missing area: 0.53 x box area.
        anns.append(dict(
            bbox=[x0, y0, bw, bh], area=0.53 * bw * bh,
            keypoints=kps, num_keypoints=num, iscrowd=0, category_id=1,
            segmentation=[[x0, y0, x0 + bw, y0, x0 + bw, y0 + bh, x0,
                           y0 + bh]]))
    return img, anns


def generate_coco_keypoints(root: str, num_train: int = 400,
                            num_val: int = 80, image_size=None,
                            max_people: int = None, seed: int = 0,
                            people: str = 'default') -> Dict:
    """Write a COCO-keypoints-format dataset under ``root``.

    Layout (as ``data/coco``): ``train2017/``, ``val2017/``,
    ``annotations/person_keypoints_{train,val}2017.json`` and
    ``person_detection_results/COCO_val2017_detections_AP_H_56_person.json``
    (the ground-truth boxes, slightly jittered, with scores).

    ``people`` picks a :data:`PEOPLE_SETTINGS` entry: ``'default'`` (one or
    two large figures) or ``'small'`` (several small and medium figures in
    COCO's area ranges).  ``image_size`` (height, width) and ``max_people``
    override the setting's.  Returns a summary, with the number of people
    per COCO area range.
    """
    if people not in PEOPLE_SETTINGS:
        raise ValueError(f'people must be one of {sorted(PEOPLE_SETTINGS)}, '
                         f'got {people!r}')
    setting = dict(PEOPLE_SETTINGS[people])
    if image_size is not None:
        setting['image_size'] = tuple(image_size)
    if max_people is not None:
        setting['max_people'] = max_people
    rng = np.random.default_rng(seed)
    h, w = setting['image_size']
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    os.makedirs(osp.join(root, 'person_detection_results'), exist_ok=True)
    summary = {}
    ann_id = 1
    for split, count, offset in (('train2017', num_train, 1),
                                 ('val2017', num_val, 1_000_000)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        images, annotations, dets = [], [], []
        for k in range(count):
            img_id = offset + k
            img, anns = _person_image(rng, h, w, setting)
            name = f'{img_id:012d}.jpg'
            cv2.imwrite(osp.join(root, split, name), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
            images.append(dict(id=img_id, file_name=name, width=w, height=h))
            for a in anns:
                a.update(id=ann_id, image_id=img_id)
                ann_id += 1
                annotations.append(a)
                x, y, bw, bh = a['bbox']
                j = rng.normal(0, 0.03, 4) * [bw, bh, bw, bh]
                dets.append(dict(image_id=img_id, category_id=1,
                                 bbox=[float(v) for v in (x + j[0], y + j[1],
                                                          bw + j[2],
                                                          bh + j[3])],
                                 score=float(rng.uniform(0.8, 1.0))))
        coco = dict(info=dict(description='HRFormer-MM synthetic people'),
                    licenses=[], images=images, annotations=annotations,
                    categories=_coco_categories())
        tag = split[:-4]
        with open(osp.join(root, 'annotations',
                           f'person_keypoints_{split}.json'), 'w') as f:
            json.dump(coco, f)
        if tag == 'val':
            with open(osp.join(root, 'person_detection_results',
                               'COCO_val2017_detections_AP_H_56_person.json'),
                      'w') as f:
                json.dump(dets, f)
        sizes = {name: sum(lo <= a['area'] < hi for a in annotations)
                 for name, (lo, hi) in COCO_AREA_RANGES.items()}
        summary[split] = dict(images=len(images), people=len(annotations),
                              **sizes)
    return summary
