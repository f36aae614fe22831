# HRNetV2-W18 facial landmarks, AFLW (19 points), 256x256, on mmpose's AFLW
# recipe.  NME normalised by the face box (mmpose: the box's longer side);
# reported on the full test set and its frontal subset.  Paper (HRNetV2
# TPAMI) / HRNet facial landmark release: full 1.57, frontal 1.46; mmpose
# td-hm_hrnetv2-w18_8xb64-60e_aflw-256x256: full 1.41, frontal 1.27.  Model
# as hrnetv2_w18_wflw.py, with 19 heatmaps.
_base_ = ('mmpose::face_2d_keypoint/topdown_heatmap/aflw/'
          'td-hm_hrnetv2-w18_8xb64-60e_aflw-256x256.py')
from hrformer_mm.config_helpers import face_hrnetv2, face_nme_variants

custom_imports, custom_hooks, default_hooks, norm_cfg, model = face_hrnetv2()
# The benchmark's NME variants; the test set above is 'NME full'.
nme_variants = face_nme_variants('aflw', full='test', frontal='test_frontal')
