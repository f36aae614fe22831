"""Synthetic faces in the on-disk formats of mmpose's facial landmark
datasets: WFLW (98 points), AFLW (19), COFW (29) and 300W (68).

One generator (``wflw.py``'s face, annotated with WFLW's 98 points) serves
every format: a format's point is one of the 98 points or the mean of a few
(AFLW's mouth centre), chosen where the format's mark-up puts it, so that
each format's flip pairs are WFLW's pairs mapped.  The same seed draws the
same faces in every format (COFW only draws more occluders over them).

Each file is COCO-style json as mmpose's ``WFLWDataset``, ``AFLWDataset``,
``COFWDataset`` and ``Face300WDataset`` read it: per face ``keypoints``
(K x 3, all visible: occluded points stay annotated, as in WFLW and COFW),
``bbox``, ``center`` and ``scale`` (the box's longer side x 1.1 / 200), and
for AFLW ``box_size`` (the face box's longer side, the release's
normaliser).  The test files are the benchmarks' evaluation sets: AFLW
full and frontal (small yaw), 300W's validation set in full, common and
challenging (large yaw, occluded or blurred) faces, and its own test set.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from .wflw import WFLW_FLIP_PAIRS, WFLW_NUM_KEYPOINTS, face_image

__all__ = ['FaceFormat', 'FACE_FORMATS', 'generate_faces', 'generate_wflw']

# a face whose yaw is below this is "frontal" (AFLW-Frontal), above it a
# 300W "challenging" face as well as occluded and blurred ones
FRONTAL_YAW = 0.2
CHALLENGING_YAW = 0.4


def _frontal(face: Dict) -> bool:
    return abs(face['yaw']) < FRONTAL_YAW


def _challenging(face: Dict) -> bool:
    return (abs(face['yaw']) > CHALLENGING_YAW or face['occluded']
            or face['blurred'])


@dataclass(frozen=True)
class FaceFormat:
    """A landmark dataset's mark-up and files.

    ``points``: per landmark, the WFLW points it is the mean of.
    ``flip_pairs``: the dataset's pairs (its mmpose metainfo's ``swap``).
    ``splits``: image folders, each with the number of images it takes
    (``'train'`` or ``'test'``: the generator's two counts).
    ``files``: annotation file -> (image folder, which faces; None: all).
    """
    name: str
    points: Tuple[Tuple[int, ...], ...]
    flip_pairs: Tuple[Tuple[int, int], ...]
    splits: Tuple[Tuple[str, str], ...]
    files: Dict[str, Tuple[str, Optional[Callable[[Dict], bool]]]]
    occlusion: float = 0.25
    box_size: bool = False

    @property
    def num_keypoints(self) -> int:
        return len(self.points)


def _format(name: str, points: Sequence, flip_pairs: Sequence, splits,
            files, **kwargs) -> FaceFormat:
    points = tuple(tuple(p) if isinstance(p, (tuple, list)) else (p, )
                   for p in points)
    return FaceFormat(name, points, tuple(map(tuple, flip_pairs)),
                      tuple(splits), dict(files), **kwargs)


_TRAIN_TEST = (('train', 'train'), ('test', 'test'))

FACE_FORMATS = {
    'wflw': _format(
        'wflw', range(WFLW_NUM_KEYPOINTS), WFLW_FLIP_PAIRS, _TRAIN_TEST,
        {'face_landmarks_wflw_train.json': ('train', None),
         'face_landmarks_wflw_test.json': ('test', None)}),
    # AFLW-19 (AFLW's 21 without the ears): brows outer / centre / inner,
    # eyes outer corner / centre / inner corner, nose left / tip / right,
    # mouth left / centre / right, chin; mmpose configs/_base_/datasets/
    # aflw.py's pairs
    'aflw': _format(
        'aflw',
        [33, 35, 37, 42, 44, 46, 60, 96, 64, 68, 97, 72, 55, 54, 59, 76,
         (90, 94), 82, 16],
        [(0, 5), (1, 4), (2, 3), (6, 11), (7, 10), (8, 9), (12, 14),
         (15, 17)],
        _TRAIN_TEST,
        {'face_landmarks_aflw_train.json': ('train', None),
         'face_landmarks_aflw_test.json': ('test', None),
         'face_landmarks_aflw_test_frontal.json': ('test', _frontal)},
        box_size=True),
    # COFW-29 (LFPW's mark-up): brow outer and inner corners, brow top and
    # bottom middles, eye outer and inner corners, lid middles, pupils,
    # nostrils, nose tip and base, mouth corners, lip top / upper lip bottom
    # / lower lip top / lip bottom, chin; mmpose cofw.py's pairs.  COFW is
    # the occluded set: most faces carry an occluder.
    'cofw': _format(
        'cofw',
        [33, 46, 37, 42, 35, (39, 40), 44, (48, 49), 60, 72, 64, 68, 62, 66,
         70, 74, 96, 97, 55, 59, 54, 57, 76, 82, 79, 90, 94, 85, 16],
        [(0, 1), (2, 3), (4, 6), (5, 7), (8, 9), (10, 11), (12, 14),
         (13, 15), (16, 17), (18, 19), (22, 23)],
        _TRAIN_TEST,
        {'cofw_train.json': ('train', None),
         'cofw_test.json': ('test', None)},
        occlusion=0.65),
    # iBUG-68: the jaw's every other point, brows' upper edges, nose bridge
    # and nostrils, eyes (corners, two points per lid), outer and inner
    # lips; mmpose 300w.py's pairs
    '300w': _format(
        '300w',
        [*range(0, 33, 2), *range(33, 38), *range(42, 47), *range(51, 60),
         60, 61, 63, 64, 65, 67, 68, 69, 71, 72, 73, 75, *range(76, 96)],
        [(i, 16 - i) for i in range(8)] + [
            (17, 26), (18, 25), (19, 24), (20, 23), (21, 22), (31, 35),
            (32, 34), (36, 45), (37, 44), (38, 43), (39, 42), (40, 47),
            (41, 46), (48, 54), (49, 53), (50, 52), (61, 63), (60, 64),
            (67, 65), (58, 56), (59, 55)],
        (('train', 'train'), ('valid', 'test'), ('test', 'test')),
        {'face_landmarks_300w_train.json': ('train', None),
         'face_landmarks_300w_valid.json': ('valid', None),
         'face_landmarks_300w_valid_common.json':
         ('valid', lambda f: not _challenging(f)),
         'face_landmarks_300w_valid_challenge.json': ('valid', _challenging),
         'face_landmarks_300w_test.json': ('test', None)}),
}


def _annotation(fmt: FaceFormat, img_id: int, kp98: np.ndarray) -> Dict:
    kp = np.stack([kp98[list(p)].mean(0) for p in fmt.points])
    # the box is the whole face's (jaw line included), as the datasets'
    (x0, y0), (x1, y1) = kp98.min(0), kp98.max(0)
    kps = np.concatenate([np.round(kp, 2), np.full((len(kp), 1), 2)], 1)
    ann = dict(
        id=img_id, image_id=img_id, category_id=1, iscrowd=0,
        keypoints=kps.ravel().tolist(), num_keypoints=fmt.num_keypoints,
        bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
        area=float((x1 - x0) * (y1 - y0)),
        center=[float(x0 + x1) / 2, float(y0 + y1) / 2],
        scale=float(max(x1 - x0, y1 - y0) * 1.1 / 200))
    if fmt.box_size:
        ann['box_size'] = float(max(x1 - x0, y1 - y0))
    return ann


def generate_faces(root: str, landmarks: str = 'wflw', num_train: int = 400,
                   num_test: int = 80, image_size=(128, 128),
                   seed: int = 0) -> Dict:
    """Write a dataset of landmark format ``landmarks`` (a key of
    :data:`FACE_FORMATS`) under ``root``: ``images/<split>/*.jpg`` and
    ``annotations/<file>.json`` as ``data/<landmarks>`` holds them.
    ``image_size`` is (height, width).  Returns the number of faces per
    annotation file."""
    fmt = FACE_FORMATS[landmarks]
    rng = np.random.default_rng(seed)
    h, w = image_size
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    faces = {}
    for k, (split, count) in enumerate(fmt.splits):
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        offset = k * 1_000_000 or 1
        faces[split] = []
        for n in range(num_train if count == 'train' else num_test):
            img_id = offset + n
            img, kp, attrs = face_image(rng, h, w, fmt.occlusion)
            name = f'{split}/{img_id:08d}.jpg'
            cv2.imwrite(osp.join(root, 'images', name), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
            faces[split].append((
                dict(id=img_id, file_name=name, width=w, height=h),
                _annotation(fmt, img_id, kp), attrs))
    category = dict(id=1, name='person', supercategory='person',
                    keypoints=[f'kpt-{i}' for i in range(fmt.num_keypoints)],
                    skeleton=[])
    summary = {}
    for filename, (split, keep) in fmt.files.items():
        chosen = [f for f in faces[split] if keep is None or keep(f[2])]
        data = dict(info=dict(description='HRFormer-MM synthetic faces'),
                    licenses=[], images=[f[0] for f in chosen],
                    annotations=[f[1] for f in chosen],
                    categories=[category])
        with open(osp.join(root, 'annotations', filename), 'w') as f:
            json.dump(data, f)
        summary[filename] = len(chosen)
    return summary


def generate_wflw(root: str, num_train: int = 400, num_test: int = 80,
                  image_size=(128, 128), seed: int = 0) -> Dict:
    """A WFLW-format dataset (``data/wflw``): 98 points."""
    return generate_faces(root, 'wflw', num_train, num_test, image_size,
                          seed)

