# HRFormer-S, COCO top-down, 384x288.  Paper: 75.6 AP; mmpose retrain 75.7.
# mmpose's recipe with this project's HRFormer, as hrformer_s_coco.py.
_base_ = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrformer-small_8xb32-210e_coco-384x288.py')
from hrformer_mm.config_helpers import pose_hrformer, pose_runtime

custom_imports, custom_hooks, default_hooks = pose_runtime()
model = dict(backbone=pose_hrformer('small', 0.1))
