# HRFormer-S, COCO top-down, 256x192.  Paper: 74.0 AP; mmpose retrain 73.8.
# mmpose's recipe (optimizer, schedule, pipelines, batch size, runtime) with
# this project's HRFormer: same weights, same state-dict keys.
_base_ = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrformer-small_8xb32-210e_coco-256x192.py')
from hrformer_mm.config_helpers import pretrained_hrformer

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(_delete_=True, type='hrformer_mm.HRFormer',
                  out_indices=(0, ), norm_cfg=_base_.norm_cfg,
                  **pretrained_hrformer('small', 0.1)))
# resume reproduces an uninterrupted run exactly (drop path included)
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='hrformer_mm.RNGStateHook')]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
