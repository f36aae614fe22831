# HRNet-W32, COCO top-down, 256x192, V1 read-out.  Paper (Sun et al. 2019,
# val2017): 74.4 AP; mmpose td-hm_hrnet-w32_8xb64-210e_coco-256x192: 74.6.
# mmpose's recipe with this project's HRNet (SyncBN), whose V1 read-out
# loads mmpose's HRNet checkpoints unchanged.
_base_ = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')
from hrformer_mm.config_helpers import pose_hrnet, pose_runtime

custom_imports, custom_hooks, default_hooks = pose_runtime()
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = pose_hrnet('w32', norm_cfg)
