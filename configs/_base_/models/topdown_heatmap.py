# mmpose's top-down heatmap estimator as every heatmap config here builds
# it: ImageNet mean / std, RGB, a 1x1 conv head (no deconvolutions) to
# one heatmap per keypoint, MSE loss, flip testing.  Each model base adds
# the backbone (and neck); each config sets head.decoder from its codec.
# Defaults: 32 input channels, 17 COCO keypoints, SyncBN.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    head=dict(
        type='HeatmapHead',
        in_channels=32,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True)),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
