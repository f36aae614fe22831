# HRNetV2-W18 facial landmarks, COFW (29 points), 256x256, on mmpose's COFW
# recipe (heatmap sigma 1.5; its multi-step schedule ends at epoch 50 of 60,
# so the decay at 55 never happens).  NME normalised by the inter-ocular
# distance (outer eye corners, points 8 and 9, as the release computes it).
# Paper (HRNetV2 TPAMI) / HRNet facial landmark release: 3.45; mmpose
# td-hm_hrnetv2-w18_8xb64-60e_cofw-256x256: 3.48.  Model as
# hrnetv2_w18_wflw.py, with 29 heatmaps.
_base_ = ('mmpose::face_2d_keypoint/topdown_heatmap/cofw/'
          'td-hm_hrnetv2-w18_8xb64-60e_cofw-256x256.py')
from hrformer_mm.config_helpers import hrnetv2, pose_runtime

custom_imports, custom_hooks, default_hooks = pose_runtime()
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    **hrnetv2('w18', norm_cfg, neck=dict(out_channels=270, norm_cfg=norm_cfg),
              replace=True),
    head=dict(conv_out_channels=None, conv_kernel_sizes=None))
# The benchmark's NME variants: metric name -> the test annotation file
# (COFW reports one, the test set above)
nme_variants = {'NME': 'annotations/cofw_test.json'}
