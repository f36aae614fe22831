# HRNetV2-W18 + FCN, Cityscapes val: 512x1024 crops, 160k iterations, batch
# 8.  mmseg fcn_hr18_4xb2-160k_cityscapes-512x1024: 78.80 mIoU (80.74
# ms+flip).  The V2 neck concatenates the streams (270 channels); the FCN
# head is a 1x1 conv + BN + ReLU on them and the classifier.
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/cityscapes_512x1024.py',
    '../_base_/schedules/seg_sgd_poly_160k.py',
]
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=_base_.crop_size),
    pretrained=None,
    backbone=dict(
        type='hrformer_mm.HRNet',
        arch='w18',
        upsample_mode='bilinear',
        norm_cfg=norm_cfg,
        init_cfg=dict(type='Pretrained',
                      checkpoint='open-mmlab://msra/hrnetv2_w18')),
    neck=dict(type='hrformer_mm.HRNetV2Neck', in_channels=[18, 36, 72, 144],
              mode='v2'),
    decode_head=dict(
        type='FCNHead',
        in_channels=270,
        in_index=0,
        channels=270,
        kernel_size=1,
        num_convs=1,
        concat_input=False,
        dropout_ratio=-1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
train_dataloader = dict(batch_size=2)
