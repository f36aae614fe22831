# HRFormer-S, COCO top-down, 256x192.  Paper: 74.0 AP; mmpose retrain 73.8.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrformer-small_8xb32-210e_coco-256x192.py
_base_ = [
    '../_base_/datasets/coco_topdown_256x192.py',
    '../_base_/models/hrformer_topdown_heatmap.py',
    '../_base_/schedules/pose_adamw_210e.py',
]
from hrformer_mm.config_helpers import pretrained_hrformer

model = dict(backbone=pretrained_hrformer('small', 0.1),
             head=dict(decoder=_base_.codec))
