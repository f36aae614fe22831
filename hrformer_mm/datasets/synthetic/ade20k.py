"""Synthetic scenes in ADE20K format: sky, buildings, trees, road, grass,
cars and people with per-class textures whose colours overlap across
classes, labelled with the ADE20K class indices."""
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

from .coco import draw_person
from .textures import noise as _noise
from .textures import paste as _paste
from .textures import texture

__all__ = ['ADE20K_DEMO_CLASSES', 'draw_building', 'draw_car', 'draw_tree',
           'generate_ade20k']

# ADE20K's 1-based label ids (0 = "other", ignored with reduce_zero_label).
ADE20K_DEMO_CLASSES = {
    'building': 2, 'sky': 3, 'tree': 5, 'road': 7, 'grass': 10,
    'person': 13, 'car': 21
}


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


def draw_car(rng: np.random.Generator, h: int, w: int, horizon: float,
             width=(0.25, 0.4),
             left=(-0.05, 0.9)) -> Tuple[np.ndarray, np.ndarray]:
    """A car standing on the ground below ``horizon`` in an (h, w)
    image, seen from the side, ``width`` (a range, fraction of ``w``) long
    with its left end in ``left`` (fraction of ``w``): returns its mask and
    a full-size texture holding its look (body colour, dark cabin windows,
    wheels)."""
    cw = int(rng.uniform(*width) * w)
    ch = int(cw * rng.uniform(0.35, 0.5))
    x0 = int(rng.uniform(*left) * w)
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
    return m.astype(bool), tex


def draw_building(rng: np.random.Generator, h: int, w: int, horizon: float,
                  width=(0.15, 0.35), height=(0.2, 0.5),
                  left=(-0.1, 0.9)) -> Tuple[np.ndarray, np.ndarray]:
    """A wall with rows of dark windows standing on ``horizon``, ``width``
    x ``height`` (ranges, fractions of the image) with its left side in
    ``left``: returns its mask and a full-size texture holding its look."""
    yy, xx = np.mgrid[0:h, 0:w]
    bw = int(rng.uniform(*width) * w)
    bh = int(rng.uniform(*height) * h)
    x0 = int(rng.uniform(*left) * w)
    m = (xx >= x0) & (xx < x0 + bw) & (yy >= horizon - bh) & \
        (yy < horizon + 4)
    tex = _tinted(rng, h, w, 'blotch', [60, 60, 60], [220, 220, 220])
    step = int(rng.integers(6, 11))
    windows = ((yy % step) < step // 2) & (((xx - x0) % step) < step // 2)
    tex[windows] = rng.uniform(20, 90, 3).astype(np.uint8)
    return m, tex


def draw_tree(rng: np.random.Generator, h: int, w: int, horizon: float,
              radius=(0.1, 0.18),
              centre=(0., 1.)) -> List[Tuple[np.ndarray, np.ndarray]]:
    """A brown trunk and a blotchy green canopy of ``radius`` (a range,
    fraction of ``h``), standing between ``horizon`` and 0.9 ``h`` at a
    horizontal position in ``centre`` (fraction of ``w``): returns the
    (mask, full-size texture) of the trunk, then of the canopy."""
    cx = int(rng.uniform(*centre) * w)
    base = int(rng.uniform(horizon, h * 0.9))
    r = int(rng.uniform(*radius) * h)
    trunk = np.zeros((h, w), np.uint8)
    cv2.rectangle(trunk, (cx - r // 5, base - 2 * r), (cx + r // 5, base),
                  1, -1)
    parts = [(trunk.astype(bool),
              _tinted(rng, h, w, 'grain', [20, 40, 70], [60, 90, 130]))]
    crown = np.zeros((h, w), np.uint8)
    for _ in range(4):
        o = rng.normal(0, r / 3, 2).astype(int)
        cv2.circle(crown, (cx + o[0], base - 2 * r + o[1]),
                   int(r * rng.uniform(0.6, 0.9)), 1, -1)
    parts.append((crown.astype(bool),
                  _tinted(rng, h, w, 'blotch', [10, 70, 10], [70, 170, 80])))
    return parts


def _scene(rng: np.random.Generator, h: int,
           w: int) -> Tuple[np.ndarray, np.ndarray]:
    C = ADE20K_DEMO_CLASSES
    img = np.zeros((h, w, 3), np.uint8)
    label = np.zeros((h, w), np.uint8)

    def fill(mask, tex, cls):
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
    fill(sky, np.clip(sky_tex, 0, 255).astype(np.uint8), C['sky'])
    fill(~sky, _tinted(rng, h, w, 'grain', [20, 100, 20], [90, 200, 110]),
         C['grass'])
    # a road band across the ground, with a dashed centre line
    if rng.random() < 0.8:
        y0 = int(rng.uniform(horizon, h * 0.8))
        y1 = y0 + int(rng.uniform(0.12, 0.3) * h)
        road = ~sky & (yy >= y0) & (yy < y1)
        g = rng.uniform(50, 140)
        road_tex = _tinted(rng, h, w, 'grain', [g - 15] * 3, [g + 15] * 3)
        dash = (np.abs(yy - (y0 + y1) // 2) <= 1) & ((xx // 8) % 2 == 0)
        road_tex[dash] = 230
        fill(road, road_tex, C['road'])
    # buildings standing on the horizon: walls with rows of windows
    for _ in range(int(rng.integers(1, 4))):
        fill(*draw_building(rng, h, w, horizon), C['building'])
    # trees: brown trunk and a blotchy green canopy
    for _ in range(int(rng.integers(1, 3))):
        for m, tex in draw_tree(rng, h, w, horizon):
            fill(m, tex, C['tree'])
    # cars on the ground: a body, a cabin with dark windows, two wheels
    for _ in range(int(rng.integers(1, 3))):
        m, tex = draw_car(rng, h, w, horizon)
        fill(m, tex, C['car'])
    # people, with clothed (thicker) limbs: a stick figure's limbs would be
    # about one logit wide at the 1/4-resolution output of the heads
    for _ in range(int(rng.integers(1, 3))):
        height = rng.uniform(0.5, 0.85) * h
        canvas = img.copy()
        _, m = draw_person(rng, canvas, rng.uniform(0, w),
                           rng.uniform(horizon - 0.6 * height, h - height),
                           height, limb_width=0.085)
        fill(m, canvas, C['person'])
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
