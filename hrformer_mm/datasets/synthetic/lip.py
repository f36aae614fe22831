"""Synthetic human parsing in LIP format: one of the generated people per
picture (:func:`~hrformer_mm.datasets.synthetic.coco.draw_person`), framed
as LIP frames its people, over a textured background, sometimes partly
hidden by an occluder, each pixel labelled with LIP's 20 classes where the
figure has the part: hair, face, upper clothes (the torso), left / right
arm, leg and shoe.  Sides are the person's own, as in LIP (the left arm of
a figure facing the camera is on the image right), so a horizontal flip
must swap them (LIP's 14 <-> 15, 16 <-> 17, 18 <-> 19)."""
import os
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np

from .coco import PERSON_PARTS, draw_person
from .textures import background as _background
from .textures import occluder as _occluder
from .textures import paste as _paste
from .textures import texture

__all__ = ['LIP_CLASSES', 'LIP_FLIP_PAIRS', 'PART_TO_LIP', 'generate_lip']

# LIP's classes in label order (mmseg's LIPDataset names them the same).
LIP_CLASSES = ('Background', 'Hat', 'Hair', 'Glove', 'Sunglasses',
               'UpperClothes', 'Dress', 'Coat', 'Socks', 'Pants',
               'Jumpsuits', 'Scarf', 'Skirt', 'Face', 'Left-arm',
               'Right-arm', 'Left-leg', 'Right-leg', 'Left-shoe',
               'Right-shoe')
# The label pairs a horizontal flip exchanges (the HRNet segmentation
# release's lib/datasets/lip.py swaps these in training and in its flip
# test).
LIP_FLIP_PAIRS = ((14, 15), (16, 17), (18, 19))
# PERSON_PARTS name -> LIP label
PART_TO_LIP = {
    'background': 0, 'hair': 2, 'face': 13, 'torso': 5, 'left_arm': 14,
    'right_arm': 15, 'left_leg': 16, 'right_leg': 17, 'left_foot': 18,
    'right_foot': 19
}
_LUT = np.array([PART_TO_LIP[p] for p in PERSON_PARTS], np.uint8)


def parsing_sample(rng: np.random.Generator, h: int, w: int,
                   occluded: float = 0.3
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One LIP-style picture: a figure 75-95 % of the picture's height near
    its centre.  Returns the BGR image, its LIP label map (uint8) and the
    figure's 17 COCO keypoints (x, y)."""
    img = _background(rng, h, w)
    parts = np.zeros((h, w), np.uint8)
    height = rng.uniform(0.75, 0.95) * h
    kp, mask = draw_person(rng, img, rng.uniform(0.4, 0.6) * w,
                           rng.uniform(0.0, 0.98 - height / h) * h, height,
                           limb_width=0.07, parts=parts)
    if rng.random() < occluded:
        ys, xs = np.nonzero(mask)
        box = (xs.min(), ys.min(), np.ptp(xs) + 1, np.ptp(ys) + 1)
        hidden = _occluder(rng, h, w, box)
        _paste(img, texture(rng, h, w), hidden)
        parts[hidden] = 0
    img = np.clip(img.astype(np.float32) + rng.normal(0, 4, img.shape), 0,
                  255).astype(np.uint8)
    return img, _LUT[parts], kp


def generate_lip(root: str, num_train: int = 300, num_val: int = 60,
                 image_size=(128, 96), seed: int = 0) -> Dict:
    """Write a LIP-format human parsing dataset under ``root``.

    Layout (as mmseg reads ``data/LIP``): ``{train,val}_images/*.jpg`` and
    ``{train,val}_segmentations/*.png`` of the same stem holding LIP's
    labels 0-19 (0 = background).  Returns the pixels per class and split.
    """
    rng = np.random.default_rng(seed)
    h, w = image_size
    summary = {}
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir = osp.join(root, f'{split}_images')
        seg_dir = osp.join(root, f'{split}_segmentations')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(seg_dir, exist_ok=True)
        counts = np.zeros(len(LIP_CLASSES), np.int64)
        for k in range(count):
            img, label, _ = parsing_sample(rng, h, w)
            name = f'{k + 1:06d}'
            cv2.imwrite(osp.join(img_dir, name + '.jpg'), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
            cv2.imwrite(osp.join(seg_dir, name + '.png'), label)
            counts += np.bincount(label.ravel(), minlength=len(LIP_CLASSES))
        summary[split] = dict(images=count, pixels_per_class={
            LIP_CLASSES[i]: int(n) for i, n in enumerate(counts) if n})
    return summary
