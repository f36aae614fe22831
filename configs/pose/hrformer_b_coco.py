# HRFormer-B, COCO top-down, 256x192.  Paper: 75.6 AP; mmpose retrain 75.4.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrformer-base_8xb32-210e_coco-256x192.py
_base_ = ['./hrformer_s_coco.py']
from hrformer_mm.config_helpers import pretrained_hrformer

model = dict(backbone=pretrained_hrformer('base', 0.2),
             head=dict(in_channels=78))
