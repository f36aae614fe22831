# HRNetV2-W18 facial landmarks, WFLW (98 points), 256x256.  Paper (HRNetV2
# TPAMI, WFLW test): 4.60 NME; mmpose td-hm_hrnetv2-w18_8xb64-60e_wflw-256x256:
# 4.06.  mmpose's recipe with this project's HRNetV2: the V2 neck
# concatenates the streams and mixes them with a 1x1 conv + BN + ReLU to 270
# channels (what mmpose's head does with conv_out_channels=(270,)); the head
# is a 1x1 conv to 98 heatmaps.
_base_ = ('mmpose::face_2d_keypoint/topdown_heatmap/wflw/'
          'td-hm_hrnetv2-w18_8xb64-60e_wflw-256x256.py')
from hrformer_mm.config_helpers import face_hrnetv2

custom_imports, custom_hooks, default_hooks, norm_cfg, model = face_hrnetv2()
