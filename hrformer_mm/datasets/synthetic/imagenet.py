"""Synthetic images for classification in the ImageNet folder layout: one
object or texture per image, drawn with the generators of the other
formats (the stick figures of :mod:`.coco`, the faces of :mod:`.wflw`, the
cars, trees and buildings of :mod:`.ade20k`, the balls of :mod:`.coco_det`,
each over the procedural backgrounds of :mod:`.textures`) and the four
texture kinds of :func:`.textures.texture` filling the whole image.

Written as ``train/<class>/*.png`` and ``val/<class>/*.png``, the layout
mmpretrain's ``CustomDataset`` reads with ``data_prefix`` alone (classes
are the sorted folder names, which :data:`CLS_CLASSES` is), plus
``meta/{train,val}.txt`` (``<class>/<file> <label>`` lines, as ImageNet's
``meta/``) and ``meta/classes.txt`` for ``ann_file``-based configs.
"""
import os
import os.path as osp
from typing import Callable, Dict

import cv2
import numpy as np

from .ade20k import draw_building, draw_car, draw_tree
from .coco import draw_person
from .coco_det import draw_ball
from .textures import background, paste, texture
from .wflw import draw_face, face_keypoints

__all__ = ['CLS_CLASSES', 'classification_image', 'generate_imagenet']


def _person(rng, img):
    h, w = img.shape[:2]
    height = rng.uniform(0.75, 0.95) * h
    draw_person(rng, img, rng.uniform(0.35, 0.65) * w,
                rng.uniform(0.0, 0.98 - height / h) * h, height,
                limb_width=0.07)


def _face(rng, img):
    h, w = img.shape[:2]
    kp, forehead = face_keypoints(rng, h, w)
    draw_face(rng, img, kp, forehead)


def _car(rng, img):
    h, w = img.shape[:2]
    mask, tex = draw_car(rng, h, w, rng.uniform(0.35, 0.5) * h,
                         width=(0.6, 0.85), left=(0.0, 0.1))
    paste(img, tex, mask)


def _ball(rng, img):
    draw_ball(rng, img, radius=(0.2, 0.35), centre=(0.35, 0.65))


def _tree(rng, img):
    h, w = img.shape[:2]
    for mask, tex in draw_tree(rng, h, w, 0.8 * h, radius=(0.2, 0.28),
                               centre=(0.3, 0.7)):
        paste(img, tex, mask)


def _building(rng, img):
    h, w = img.shape[:2]
    mask, tex = draw_building(rng, h, w, 0.85 * h, width=(0.4, 0.7),
                              height=(0.5, 0.8), left=(0.0, 0.3))
    paste(img, tex, mask)


def _texture(kind: str) -> Callable:
    def draw(rng, img):
        h, w = img.shape[:2]
        img[:] = texture(rng, h, w, kind)
    return draw


# sorted, so that mmpretrain's CustomDataset (which labels the class
# folders in sorted order) gives class k the label k
_DRAW = {
    'ball': _ball,
    'blotches': _texture('blotch'),
    'building': _building,
    'car': _car,
    'checks': _texture('checks'),
    'face': _face,
    'grain': _texture('grain'),
    'person': _person,
    'stripes': _texture('stripes'),
    'tree': _tree,
}
CLS_CLASSES = tuple(_DRAW)
assert list(CLS_CLASSES) == sorted(CLS_CLASSES)


def classification_image(rng: np.random.Generator, label: int, h: int,
                         w: int) -> np.ndarray:
    """An (h, w, 3) uint8 BGR image of class ``CLS_CLASSES[label]``: the
    object over a procedural background (the textures: the whole image),
    with illumination changes and sensor noise."""
    img = background(rng, h, w)
    _DRAW[CLS_CLASSES[label]](rng, img)
    img = img.astype(np.float32) * rng.uniform(0.7, 1.25) + \
        rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def generate_imagenet(root: str, num_train: int = 40, num_val: int = 10,
                      image_size=(64, 64), seed: int = 0) -> Dict:
    """Write an ImageNet-layout classification dataset under ``root``:
    ``num_train`` / ``num_val`` images per class of :data:`CLS_CLASSES`
    (PNG, ``image_size`` = (h, w)) under ``train/<class>/`` and
    ``val/<class>/``, and the ``meta/`` lists.  Returns the image counts
    per split."""
    rng = np.random.default_rng(seed)
    h, w = image_size
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    with open(osp.join(root, 'meta', 'classes.txt'), 'w') as f:
        f.write(''.join(c + '\n' for c in CLS_CLASSES))
    summary = {}
    for split, count in (('train', num_train), ('val', num_val)):
        lines = []
        for name in CLS_CLASSES:
            os.makedirs(osp.join(root, split, name), exist_ok=True)
        # one image of each class in turn: the k-th images of all classes
        # come from the same stretch of the random stream
        for k in range(count):
            for label, name in enumerate(CLS_CLASSES):
                rel = f'{name}/{split}_{k:05d}.png'
                cv2.imwrite(osp.join(root, split, rel),
                            classification_image(rng, label, h, w))
                lines.append(f'{rel} {label}\n')
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write(''.join(sorted(lines)))
        summary[split] = dict(images=len(lines), classes=len(CLS_CLASSES),
                              per_class=count)
    return summary
