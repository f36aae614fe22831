# HRFormer-S, COCO top-down, 256x192.  Paper: 74.0 AP; mmpose retrain 73.8.
# mmpose's recipe (optimizer, schedule, pipelines, batch size, runtime) with
# this project's HRFormer: same weights, same state-dict keys.
_base_ = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrformer-small_8xb32-210e_coco-256x192.py')
from hrformer_mm.config_helpers import pose_hrformer, pose_runtime

custom_imports, custom_hooks, default_hooks = pose_runtime()
model = dict(backbone=pose_hrformer('small', 0.1))
