# HRNetV2-W18 facial landmarks, AFLW (19 points), 256x256, on mmpose's AFLW
# recipe.  NME normalised by the face box (mmpose: the box's longer side);
# reported on the full test set and its frontal subset.  Paper (HRNetV2
# TPAMI) / HRNet facial landmark release: full 1.57, frontal 1.46; mmpose
# td-hm_hrnetv2-w18_8xb64-60e_aflw-256x256: full 1.41, frontal 1.27.  Model
# as hrnetv2_w18_wflw.py, with 19 heatmaps.
_base_ = ('mmpose::face_2d_keypoint/topdown_heatmap/aflw/'
          'td-hm_hrnetv2-w18_8xb64-60e_aflw-256x256.py')
from hrformer_mm.config_helpers import hrnetv2

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    **hrnetv2('w18', norm_cfg, neck=dict(out_channels=270, norm_cfg=norm_cfg),
              replace=True),
    head=dict(_delete_=True, type='HeatmapHead', in_channels=270,
              out_channels=19, deconv_out_channels=None,
              loss=dict(type='KeypointMSELoss', use_target_weight=True),
              decoder=_base_.codec))
# The benchmark's NME variants: metric name -> the test annotation file
# (tools/test.py ... --cfg-options test_dataloader.dataset.ann_file=FILE);
# the test set above is 'NME full'.
nme_variants = {
    'NME full': 'annotations/face_landmarks_aflw_test.json',
    'NME frontal': 'annotations/face_landmarks_aflw_test_frontal.json',
}
# resume reproduces an uninterrupted run exactly
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='hrformer_mm.RNGStateHook')]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
