"""Small, learnable stand-ins for COCO keypoints, COCO instances (boxes and
masks), ADE20K, the facial landmark sets (WFLW, AFLW, COFW, 300W) and
ImageNet (classification), written in the exact on-disk formats of the real
datasets, one module per format.

The real datasets cannot be downloaded on every machine this project runs
on, yet the demo and the end-to-end tests must exercise the real mmpose /
mmseg dataset classes, pipelines and metrics.  Everything is a pure function
of a seed, so a dataset is reproducible.
"""
from .ade20k import ADE20K_DEMO_CLASSES, draw_car, generate_ade20k
from .coco import (COCO_KEYPOINTS, COCO_SKELETON, draw_person,
                   generate_coco_keypoints)
from .coco_det import DET_CLASSES, generate_coco_detection
from .faces import FACE_FORMATS, generate_faces, generate_wflw
from .imagenet import CLS_CLASSES, generate_imagenet
from .lip import LIP_CLASSES, LIP_FLIP_PAIRS, generate_lip
from .textures import texture
from .wflw import WFLW_FLIP_PAIRS, WFLW_NUM_KEYPOINTS

__all__ = [
    'COCO_KEYPOINTS', 'COCO_SKELETON', 'ADE20K_DEMO_CLASSES',
    'generate_coco_keypoints', 'generate_ade20k', 'draw_person', 'texture',
    'WFLW_FLIP_PAIRS', 'WFLW_NUM_KEYPOINTS', 'generate_wflw',
    'FACE_FORMATS', 'generate_faces',
    'DET_CLASSES', 'draw_car', 'generate_coco_detection',
    'CLS_CLASSES', 'generate_imagenet',
    'LIP_CLASSES', 'LIP_FLIP_PAIRS', 'generate_lip',
    'GENERATOR_VERSION'
]

# Bump whenever a change here alters the generated files, so that
# `tools/generate_demo_data.py --if-stale` (which the demo calls) regenerates
# data written by an older version.
GENERATOR_VERSION = 3
