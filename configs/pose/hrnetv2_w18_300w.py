# HRNetV2-W18 facial landmarks, 300W (68 points), 256x256, on mmpose's 300W
# recipe (heatmap sigma 1.5).  NME normalised by the inter-ocular distance
# (outer eye corners, points 36 and 45); reported on the validation set's
# common and challenging subsets, the whole validation set ('full') and the
# 300W test set.  Published (HRNet-Facial-Landmark-Detection README, common,
# challenging, full, test: 2.91, 5.11,
# 3.34, 3.85); mmpose td-hm_hrnetv2-w18_8xb64-60e_300w-256x256: 2.92, 5.64,
# 3.45, 4.10.  Model as hrnetv2_w18_wflw.py, with 68 heatmaps.
_base_ = ('mmpose::face_2d_keypoint/topdown_heatmap/300w/'
          'td-hm_hrnetv2-w18_8xb64-60e_300w-256x256.py')
from hrformer_mm.config_helpers import face_hrnetv2, face_nme_variants

custom_imports, custom_hooks, default_hooks, norm_cfg, model = face_hrnetv2()
# The benchmark's NME variants: the validation set's subsets, all of it
# (the test set above) and the 300W test set.
nme_variants = face_nme_variants(
    '300w', common='valid_common', challenge='valid_challenge',
    full='valid', test='test')
