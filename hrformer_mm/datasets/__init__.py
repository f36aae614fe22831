from .parsing import SwapFlippedPartLabels, swapped_order
from .sample_seeding import (SampleKey, SampleSeededDataset, draw_seeds,
                             seeded_draws)
from .synthetic import (ADE20K_DEMO_CLASSES, COCO_KEYPOINTS, draw_person,
                        generate_ade20k, generate_coco_detection,
                        generate_coco_keypoints,
                        generate_wflw)

__all__ = ['ADE20K_DEMO_CLASSES', 'SwapFlippedPartLabels', 'swapped_order',
           'COCO_KEYPOINTS', 'SampleKey',
           'SampleSeededDataset', 'draw_person', 'draw_seeds',
           'generate_ade20k', 'generate_coco_detection',
           'generate_coco_keypoints', 'generate_wflw', 'seeded_draws']
