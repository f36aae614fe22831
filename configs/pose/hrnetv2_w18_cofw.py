# HRNetV2-W18 facial landmarks, COFW (29 points), 256x256, on mmpose's COFW
# recipe (heatmap sigma 1.5; its multi-step schedule ends at epoch 50 of 60,
# so the decay at 55 never happens).  NME normalised by the inter-ocular
# distance (outer eye corners, points 8 and 9, as the release computes it).
# Paper (HRNetV2 TPAMI) / HRNet facial landmark release: 3.45; mmpose
# td-hm_hrnetv2-w18_8xb64-60e_cofw-256x256: 3.48.  Model as
# hrnetv2_w18_wflw.py, with 29 heatmaps.
_base_ = ('mmpose::face_2d_keypoint/topdown_heatmap/cofw/'
          'td-hm_hrnetv2-w18_8xb64-60e_cofw-256x256.py')
from hrformer_mm.config_helpers import face_hrnetv2

custom_imports, custom_hooks, default_hooks, norm_cfg, model = face_hrnetv2()
# The benchmark's NME variants (COFW reports one, the test set above)
nme_variants = {'NME': 'annotations/cofw_test.json'}
