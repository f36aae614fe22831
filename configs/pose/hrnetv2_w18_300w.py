# HRNetV2-W18 facial landmarks, 300W (68 points), 256x256, on mmpose's 300W
# recipe (heatmap sigma 1.5).  NME normalised by the inter-ocular distance
# (outer eye corners, points 36 and 45); reported on the validation set's
# common and challenging subsets, the whole validation set ('full') and the
# 300W test set.  Paper (HRNetV2 TPAMI): common 2.87, challenging 5.15, full
# 3.32, test 3.85 (the HRNet facial landmark release's README: 2.91, 5.11,
# 3.34, 3.85); mmpose td-hm_hrnetv2-w18_8xb64-60e_300w-256x256: 2.92, 5.64,
# 3.45, 4.10.  Model as hrnetv2_w18_wflw.py, with 68 heatmaps.
_base_ = ('mmpose::face_2d_keypoint/topdown_heatmap/300w/'
          'td-hm_hrnetv2-w18_8xb64-60e_300w-256x256.py')
from hrformer_mm.config_helpers import hrnetv2, pose_runtime

custom_imports, custom_hooks, default_hooks = pose_runtime()
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    **hrnetv2('w18', norm_cfg, neck=dict(out_channels=270, norm_cfg=norm_cfg),
              replace=True),
    head=dict(conv_out_channels=None, conv_kernel_sizes=None))
# The benchmark's NME variants: metric name -> the test annotation file
# (tools/test.py ... --cfg-options test_dataloader.dataset.ann_file=FILE);
# the test set above is 'NME full'.
nme_variants = {
    'NME common': 'annotations/face_landmarks_300w_valid_common.json',
    'NME challenge': 'annotations/face_landmarks_300w_valid_challenge.json',
    'NME full': 'annotations/face_landmarks_300w_valid.json',
    'NME test': 'annotations/face_landmarks_300w_test.json',
}
