# HRPVT-b2 with a heatmap head, COCO top-down, 256x192: mmpose's PVT v2-b2
# heatmap recipe (td-hm_pvtv2-b2_8xb64-210e_coco-256x192: Adam 5e-4, 210
# epochs) on 8 x 32 images, the HRPM neck (HRNetV2 V2 representation at 1/4
# + pyramid of dilated depthwise convs; this project's reading of the paper,
# docs/hrpvt.md) and a 1x1-conv head on its 1/4 map (64x48 MSRA heatmaps,
# sigma 2).  hrpvt_b2_simcc_coco.py is the paper's SimCC model on the same
# recipe, so the two keypoint representations compare on equal terms.  The
# paper reports SimCC only (76.3 AP val).
_base_ = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_pvtv2-b2_8xb64-210e_coco-256x192.py')
from hrformer_mm.config_helpers import pose_runtime

custom_imports, custom_hooks, default_hooks = pose_runtime()
train_dataloader = dict(batch_size=32)
model = dict(
    backbone=dict(out_indices=(0, 1, 2, 3)),
    neck=dict(
        _delete_=True,
        type='hrformer_mm.HRPMNeck',
        in_channels=[64, 128, 320, 512],
        out_channels=128,
        dilations=(1, 2, 4, 8),
        insertion='stage',
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    head=dict(in_channels=128, deconv_out_channels=None))
