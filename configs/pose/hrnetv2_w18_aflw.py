# HRNetV2-W18 facial landmarks, AFLW (19 points), 256x256, on mmpose's AFLW
# recipe.  NME normalised by the face box (mmpose: the box's longer side);
# reported on the full test set and its frontal subset.  Paper (HRNetV2
# TPAMI) / HRNet facial landmark release: full 1.57, frontal 1.46; mmpose
# td-hm_hrnetv2-w18_8xb64-60e_aflw-256x256: full 1.41, frontal 1.27.  Model
# as hrnetv2_w18_wflw.py, with 19 heatmaps.
_base_ = ('mmpose::face_2d_keypoint/topdown_heatmap/aflw/'
          'td-hm_hrnetv2-w18_8xb64-60e_aflw-256x256.py')
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
    'NME full': 'annotations/face_landmarks_aflw_test.json',
    'NME frontal': 'annotations/face_landmarks_aflw_test_frontal.json',
}
