# HRFormer-S, COCO top-down, 384x288.  Paper: 75.6 AP; mmpose retrain 75.7.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrformer-small_8xb32-210e_coco-384x288.py
_base_ = [
    '../_base_/datasets/coco_topdown_384x288.py',
    '../_base_/models/hrformer_topdown_heatmap.py',
    '../_base_/schedules/pose_adamw_210e.py',
]
from hrformer_mm.config_helpers import pretrained_hrformer

model = dict(backbone=pretrained_hrformer('small', 0.1),
             head=dict(decoder=_base_.codec))
