# HRFormer-B, COCO top-down, 384x288.  Paper: 77.2 AP (drop path 0.3, as
# here); mmpose retrained with 0.2 and reports 77.4.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrformer-base_8xb32-210e_coco-384x288.py
_base_ = ['./hrformer_s_coco_384x288.py']
from hrformer_mm.config_helpers import pretrained_hrformer

model = dict(backbone=pretrained_hrformer('base', 0.3),
             head=dict(in_channels=78))
