# HRFormer-B, COCO top-down, 256x192.  Paper: 75.6 AP; mmpose retrain 75.4.
# mmpose's recipe with this project's HRFormer, as hrformer_s_coco.py.
_base_ = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrformer-base_8xb32-210e_coco-256x192.py')
from hrformer_mm.config_helpers import pose_hrformer, pose_runtime

custom_imports, custom_hooks, default_hooks = pose_runtime()
model = dict(backbone=pose_hrformer('base', 0.2))
