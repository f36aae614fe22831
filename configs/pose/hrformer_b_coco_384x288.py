# HRFormer-B, COCO top-down, 384x288.  Paper: 77.2 AP with drop path 0.3, as
# here; mmpose's recipe, otherwise followed, retrained with 0.2 and reports
# 77.4.  This project's HRFormer, as hrformer_s_coco.py.
_base_ = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrformer-base_8xb32-210e_coco-384x288.py')
from hrformer_mm.config_helpers import pretrained_hrformer

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(_delete_=True, type='hrformer_mm.HRFormer',
                  out_indices=(0, ), norm_cfg=_base_.norm_cfg,
                  **pretrained_hrformer('base', 0.3)))
# resume reproduces an uninterrupted run exactly (drop path included)
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='hrformer_mm.RNGStateHook')]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
