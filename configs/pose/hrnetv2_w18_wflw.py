# HRNetV2-W18 facial landmarks, WFLW (98 points), 256x256.  Paper (HRNetV2
# TPAMI, WFLW test): 4.60 NME; mmpose td-hm_hrnetv2-w18_8xb64-60e_wflw-256x256:
# 4.06.  The V2 neck concatenates the streams and mixes them with a 1x1 conv
# + BN + ReLU to 270 channels (what mmpose's head does with
# conv_out_channels=(270,)); the head is a 1x1 conv to 98 heatmaps.
_base_ = [
    '../_base_/pose_runtime.py',
    '../_base_/datasets/wflw_256x256.py',
]
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
        arch='w18',
        upsample_mode='bilinear',
        norm_cfg=norm_cfg,
        init_cfg=dict(type='Pretrained',
                      checkpoint='open-mmlab://msra/hrnetv2_w18')),
    neck=dict(type='hrformer_mm.HRNetV2Neck', in_channels=[18, 36, 72, 144],
              mode='v2', out_channels=270, norm_cfg=norm_cfg),
    head=dict(
        type='HeatmapHead',
        in_channels=270,
        out_channels=98,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
# mmpose's recipe: Adam 2e-3, 60 epochs, x0.1 at 40 and 55, 8 x 64 images
train_cfg = dict(by_epoch=True, max_epochs=60, val_interval=1)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001,
         by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=60, milestones=[40, 55],
         gamma=0.1, by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=512)
default_hooks = dict(checkpoint=dict(save_best='NME', rule='less',
                                     interval=1))
