# HRFormer-S, COCO top-down, 256x192.  Paper: 74.0 AP; mmpose retrain 73.8.
_base_ = [
    '../_base_/datasets/coco_topdown_256x192.py',
    '../_base_/models/hrformer_topdown_heatmap.py',
    '../_base_/schedules/pose_adamw_210e.py',
]
from hrformer_mm.config_helpers import pretrained_hrformer

model = dict(backbone=pretrained_hrformer('small', 0.1),
             head=dict(decoder=_base_.codec))
