from .synthetic import (ADE20K_DEMO_CLASSES, COCO_KEYPOINTS, draw_person,
                        generate_ade20k, generate_coco_detection,
                        generate_coco_keypoints,
                        generate_wflw)

__all__ = ['ADE20K_DEMO_CLASSES', 'COCO_KEYPOINTS', 'draw_person',
           'generate_ade20k', 'generate_coco_detection',
           'generate_coco_keypoints', 'generate_wflw']
