"""Small, learnable stand-ins for COCO keypoints and ADE20K, written in the
exact on-disk formats of the real datasets.

COCO and ADE20K cannot be downloaded on every machine this project runs on,
yet the demo and the end-to-end tests must exercise the real mmpose / mmseg
dataset classes, pipelines and metrics.  So we draw:

* **people**: articulated stick figures with the 17 COCO keypoints (face dots,
  shoulders, elbows, ...) in random poses, over procedurally textured
  backgrounds, partly hidden by textured occluders (visibility 1) or cut by
  the image border (visibility 0), sometimes overlapping each other;
* **scenes**: sky, buildings, trees, road, grass, cars and people with
  per-class textures whose colours overlap across classes, labelled with
  the ADE20K class indices.

Everything is a pure function of a seed, so a dataset is reproducible.
"""
import json
import math
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

__all__ = [
    'COCO_KEYPOINTS', 'COCO_SKELETON', 'ADE20K_DEMO_CLASSES',
    'generate_coco_keypoints', 'generate_ade20k', 'draw_person',
    'GENERATOR_VERSION'
]

# Bump whenever a change here alters the generated files, so that
# `tools/generate_demo_data.py --if-stale` (which the demo calls) regenerates
# data written by an older version.
GENERATOR_VERSION = 2

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

# ADE20K's 1-based label ids (0 = "other", ignored with reduce_zero_label).
ADE20K_DEMO_CLASSES = {
    'building': 2, 'sky': 3, 'tree': 5, 'road': 7, 'grass': 10,
    'person': 13, 'car': 21
}


# --------------------------------------------------------------------------
# textures
def _noise(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    """Smooth noise in [0, 1] with features of about ``scale`` pixels."""
    gh, gw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
    coarse = rng.random((gh, gw)).astype(np.float32)
    up = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(up, 0, 1)


def _random_colour(rng: np.random.Generator, lo: int = 30,
                   hi: int = 230) -> np.ndarray:
    return rng.integers(lo, hi, 3).astype(np.float32)


def texture(rng: np.random.Generator, h: int, w: int,
            kind: str = None) -> np.ndarray:
    """A (h, w, 3) uint8 texture: blotches, stripes, checks or grain."""
    kind = kind or rng.choice(['blotch', 'stripes', 'checks', 'grain'])
    c1, c2 = _random_colour(rng), _random_colour(rng)
    if kind == 'blotch':
        t = _noise(rng, h, w, rng.uniform(4, 30))
    elif kind == 'stripes':
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, math.pi)
        period = rng.uniform(4, 16)
        t = 0.5 + 0.5 * np.sin(
            (xx * math.cos(a) + yy * math.sin(a)) * 2 * math.pi / period)
    elif kind == 'checks':
        s = int(rng.integers(4, 14))
        yy, xx = np.mgrid[0:h, 0:w]
        t = (((yy // s) + (xx // s)) % 2).astype(np.float32)
    else:
        t = rng.random((h, w)).astype(np.float32)
        t = cv2.GaussianBlur(t, (0, 0), 0.8)
    t = t[..., None]
    img = c1 * t + c2 * (1 - t)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _paste(dst: np.ndarray, src: np.ndarray, mask: np.ndarray) -> None:
    dst[mask] = src[mask]


# --------------------------------------------------------------------------
# people
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
                top: float, height: float,
                limb_width: float = 0.045) -> Tuple[np.ndarray, np.ndarray]:
    """Draw a figure onto ``canvas`` (in place), limbs ``limb_width`` x
    ``height`` thick.

    Returns its keypoints (17, 2) and its pixel mask.
    """
    h, w = canvas.shape[:2]
    kp, head_r = _person_keypoints(rng, cx, top, height)
    mask = np.zeros((h, w), np.uint8)
    body = texture(rng, h, w)
    limbs = texture(rng, h, w)
    thick = max(2, int(limb_width * height))
    torso = np.array([kp[5], kp[6], kp[12], kp[11]], np.int32)
    cv2.fillConvexPoly(mask, torso, 1)
    part = np.zeros_like(mask)
    for a, b in _LIMBS:
        cv2.line(part, tuple(int(v) for v in kp[a]),
                 tuple(int(v) for v in kp[b]), 1, thick, cv2.LINE_AA)
    for j in range(5, 17):  # hinge discs at shoulders, elbows, ... feet
        cv2.circle(part, tuple(int(v) for v in kp[j]), thick, 1, -1)
    head_c = tuple(int(v) for v in (kp[3] + kp[4]) / 2)
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
    dark = (rng.uniform(0, 60, 3)).tolist()
    for j, r in ((0, 0.18), (1, 0.14), (2, 0.14)):
        cv2.circle(canvas, tuple(int(v) for v in kp[j]),
                   max(1, int(r * head_r)), dark, -1)
    for j in (3, 4):
        cv2.circle(canvas, tuple(int(v) for v in kp[j]),
                   max(1, int(0.22 * head_r)), (skin * 0.8).tolist(), -1)
    mask |= part
    return kp, mask.astype(bool)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    img = texture(rng, h, w)
    for _ in range(int(rng.integers(1, 4))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        rw, rh = int(rng.integers(10, w // 2)), int(rng.integers(10, h // 2))
        m = np.zeros((h, w), np.uint8)
        cv2.rectangle(m, (x0, y0), (x0 + rw, y0 + rh), 1, -1)
        _paste(img, texture(rng, h, w), m.astype(bool))
    return img


def _occluder(rng: np.random.Generator, h: int, w: int,
              box: Tuple[float, float, float, float]) -> np.ndarray:
    """A textured ellipse or rectangle over part of ``box`` (x, y, w, h)."""
    x, y, bw, bh = box
    m = np.zeros((h, w), np.uint8)
    cx = int(x + rng.uniform(0, bw))
    cy = int(y + rng.uniform(0.2, 1.0) * bh)
    ax, ay = int(rng.uniform(0.15, 0.35) * bw), int(rng.uniform(0.08, 0.2) * bh)
    if rng.random() < 0.5:
        cv2.ellipse(m, (cx, cy), (max(ax, 2), max(ay, 2)),
                    rng.uniform(0, 180), 0, 360, 1, -1)
    else:
        cv2.rectangle(m, (cx - ax, cy - ay), (cx + ax, cy + ay), 1, -1)
    return m.astype(bool)


def _coco_categories() -> List[dict]:
    return [dict(id=1, name='person', supercategory='person',
                 keypoints=COCO_KEYPOINTS, skeleton=COCO_SKELETON)]


def _person_image(rng: np.random.Generator, h: int, w: int,
                  max_people: int) -> Tuple[np.ndarray, List[dict]]:
    img = _background(rng, h, w)
    people = []
    n = int(rng.integers(1, max_people + 1))
    for _ in range(n):
        height = rng.uniform(0.55, 0.95) * h
        cx = rng.uniform(0.2, 0.8) * w
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
                            num_val: int = 80, image_size=(192, 160),
                            max_people: int = 2, seed: int = 0) -> Dict:
    """Write a COCO-keypoints-format dataset under ``root``.

    Layout (as ``data/coco``): ``train2017/``, ``val2017/``,
    ``annotations/person_keypoints_{train,val}2017.json`` and
    ``person_detection_results/COCO_val2017_detections_AP_H_56_person.json``
    (the ground-truth boxes, slightly jittered, with scores).
    ``image_size`` is (height, width).  Returns a summary.
    """
    rng = np.random.default_rng(seed)
    h, w = image_size
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
            img, anns = _person_image(rng, h, w, max_people)
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
        summary[split] = dict(images=len(images), people=len(annotations))
    return summary


# --------------------------------------------------------------------------
# scenes
def _tinted(rng: np.random.Generator, h: int, w: int, kind: str,
            lo, hi) -> np.ndarray:
    """A texture of ``kind`` whose two colours are drawn from [lo, hi] (BGR):
    each class has a colour family, and families overlap (tree and grass
    are both green, road and building both grey at times), so texture and
    shape matter too."""
    t = texture(rng, h, w, kind).astype(np.float32) / 255.
    c1 = rng.uniform(lo, hi)
    c2 = rng.uniform(lo, hi)
    return np.clip(t * c1 + (1 - t) * c2, 0, 255).astype(np.uint8)


def _scene(rng: np.random.Generator, h: int,
           w: int) -> Tuple[np.ndarray, np.ndarray]:
    C = ADE20K_DEMO_CLASSES
    img = np.zeros((h, w, 3), np.uint8)
    label = np.zeros((h, w), np.uint8)

    def fill(mask, cls, tex):
        _paste(img, tex, mask)
        label[mask] = cls

    horizon = int(rng.uniform(0.35, 0.6) * h)
    yy, xx = np.mgrid[0:h, 0:w]
    sky = yy < horizon
    sky_tex = np.zeros((h, w, 3), np.float32)
    top = rng.uniform([150, 60, 0], [255, 160, 80])  # BGR: blue-ish
    bottom = rng.uniform([180, 150, 100], [255, 230, 230])
    grad = (yy / max(horizon, 1))[..., None].astype(np.float32)
    sky_tex[:] = top * (1 - grad) + bottom * grad
    sky_tex += 45 * _noise(rng, h, w, 25)[..., None]  # clouds
    fill(sky, C['sky'], np.clip(sky_tex, 0, 255).astype(np.uint8))
    fill(~sky, C['grass'],
         _tinted(rng, h, w, 'grain', [20, 100, 20], [90, 200, 110]))
    # a road band across the ground, with a dashed centre line
    if rng.random() < 0.8:
        y0 = int(rng.uniform(horizon, h * 0.8))
        y1 = y0 + int(rng.uniform(0.12, 0.3) * h)
        road = ~sky & (yy >= y0) & (yy < y1)
        g = rng.uniform(50, 140)
        road_tex = _tinted(rng, h, w, 'grain', [g - 15] * 3, [g + 15] * 3)
        dash = (np.abs(yy - (y0 + y1) // 2) <= 1) & ((xx // 8) % 2 == 0)
        road_tex[dash] = 230
        fill(road, C['road'], road_tex)
    # buildings standing on the horizon: walls with rows of windows
    for _ in range(int(rng.integers(1, 4))):
        bw = int(rng.uniform(0.15, 0.35) * w)
        bh = int(rng.uniform(0.2, 0.5) * h)
        x0 = int(rng.uniform(-0.1, 0.9) * w)
        m = (xx >= x0) & (xx < x0 + bw) & (yy >= horizon - bh) & \
            (yy < horizon + 4)
        tex = _tinted(rng, h, w, 'blotch', [60, 60, 60], [220, 220, 220])
        step = int(rng.integers(6, 11))
        windows = ((yy % step) < step // 2) & (((xx - x0) % step) < step // 2)
        tex[windows] = rng.uniform(20, 90, 3).astype(np.uint8)
        fill(m, C['building'], tex)
    # trees: brown trunk and a blotchy green canopy
    for _ in range(int(rng.integers(1, 3))):
        cx = int(rng.uniform(0, w))
        base = int(rng.uniform(horizon, h * 0.9))
        r = int(rng.uniform(0.1, 0.18) * h)
        trunk = np.zeros((h, w), np.uint8)
        cv2.rectangle(trunk, (cx - r // 5, base - 2 * r), (cx + r // 5, base),
                      1, -1)
        fill(trunk.astype(bool), C['tree'],
             _tinted(rng, h, w, 'grain', [20, 40, 70], [60, 90, 130]))
        crown = np.zeros((h, w), np.uint8)
        for _ in range(4):
            o = rng.normal(0, r / 3, 2).astype(int)
            cv2.circle(crown, (cx + o[0], base - 2 * r + o[1]),
                       int(r * rng.uniform(0.6, 0.9)), 1, -1)
        fill(crown.astype(bool), C['tree'],
             _tinted(rng, h, w, 'blotch', [10, 70, 10], [70, 170, 80]))
    # cars on the ground: a body, a cabin with dark windows, two wheels
    for _ in range(int(rng.integers(1, 3))):
        cw = int(rng.uniform(0.25, 0.4) * w)
        ch = int(cw * rng.uniform(0.35, 0.5))
        x0 = int(rng.uniform(-0.05, 0.9) * w)
        y1 = int(rng.uniform(horizon + ch * 0.5, h))
        colour = rng.uniform(0, 255, 3)
        m = np.zeros((h, w), np.uint8)
        cv2.rectangle(m, (x0, y1 - ch), (x0 + cw, y1 - ch // 4), 1, -1)
        cv2.rectangle(m, (x0 + cw // 5, y1 - int(ch * 1.5)),
                      (x0 + 4 * cw // 5, y1 - ch), 1, -1)
        tex = np.empty((h, w, 3), np.uint8)
        tex[:] = colour.astype(np.uint8)
        cv2.rectangle(tex, (x0 + cw // 5 + 2, y1 - int(ch * 1.4)),
                      (x0 + 4 * cw // 5 - 2, y1 - ch - 1), (40, 30, 30), -1)
        for wx in (x0 + cw // 5, x0 + 4 * cw // 5):
            cv2.circle(m, (wx, y1 - ch // 4), max(2, ch // 4), 1, -1)
            cv2.circle(tex, (wx, y1 - ch // 4), max(2, ch // 4), (25, 25, 25),
                       -1)
        fill(m.astype(bool), C['car'], tex)
    # people, with clothed (thicker) limbs: a stick figure's limbs would be
    # about one logit wide at the 1/4-resolution output of the heads
    for _ in range(int(rng.integers(1, 3))):
        height = rng.uniform(0.5, 0.85) * h
        canvas = img.copy()
        _, m = draw_person(rng, canvas, rng.uniform(0, w),
                           rng.uniform(horizon - 0.6 * height, h - height),
                           height, limb_width=0.085)
        fill(m, C['person'], canvas)
    img = np.clip(img.astype(np.float32) + rng.normal(0, 4, img.shape), 0,
                  255).astype(np.uint8)
    return img, label


def generate_ade20k(root: str, num_train: int = 300, num_val: int = 60,
                    image_size=(160, 160), seed: int = 0) -> Dict:
    """Write an ADE20K-format dataset under ``root``.

    Layout (as ``data/ade/ADEChallengeData2016``): ``images/{training,
    validation}/ADE_{train,val}_%08d.jpg`` and ``annotations/...png``
    holding ADE20K's 1-based class ids (0 = other).
    """
    rng = np.random.default_rng(seed)
    h, w = image_size
    summary = {}
    for split, tag, count in (('training', 'train', num_train),
                              ('validation', 'val', num_val)):
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'annotations', split), exist_ok=True)
        counts = np.zeros(256, np.int64)
        for k in range(count):
            img, label = _scene(rng, h, w)
            name = f'ADE_{tag}_{k + 1:08d}'
            cv2.imwrite(osp.join(root, 'images', split, name + '.jpg'), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
            cv2.imwrite(osp.join(root, 'annotations', split, name + '.png'),
                        label)
            counts += np.bincount(label.ravel(), minlength=256)
        summary[split] = dict(images=count, pixels_per_class={
            name: int(counts[i]) for name, i in ADE20K_DEMO_CLASSES.items()})
    return summary
