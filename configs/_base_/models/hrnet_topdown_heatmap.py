# Top-down heatmap pose model: HRNet backbone, the V1 read-out (the
# highest-resolution stream; the last module fuses only into it, mmpose's
# multiscale_output=False, so mmpose's HRNet checkpoints load unchanged),
# 1x1 conv head.  Defaults: HRNet-W32, 17 COCO keypoints.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='hrformer_mm.HRNet',
        arch='w32',
        out_indices=(0, ),
        norm_cfg=norm_cfg,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrnet_w32-36af842e.pth')),
    neck=dict(type='hrformer_mm.HRNetV2Neck', in_channels=[32], mode='v1'),
    # head.decoder is set by each config from its codec
    head=dict(
        type='HeatmapHead',
        in_channels=32,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True)),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
