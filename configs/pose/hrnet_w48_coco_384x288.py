# HRNet-W48, COCO top-down, 384x288, V1 read-out.  Paper (Sun et al. 2019,
# val2017): 76.3 AP; mmpose td-hm_hrnet-w48_8xb32-210e_coco-384x288: 76.7.
# mmpose's recipe with this project's HRNet, as hrnet_w32_coco.py.
_base_ = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrnet-w48_8xb32-210e_coco-384x288.py')
from hrformer_mm.config_helpers import pose_hrnet, pose_runtime

custom_imports, custom_hooks, default_hooks = pose_runtime()
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = pose_hrnet('w48', norm_cfg)
