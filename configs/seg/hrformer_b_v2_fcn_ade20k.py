# HRFormer-B through the HRNetV2 neck with a plain FCN head, ADE20K:
# 520x520 crops, 150k iterations, batch 8.  No published number (the paper
# reports HRFormer-B only with OCR: 46.3 mIoU); it shows the V2 read-out is
# backbone-agnostic: the same neck as the HRNetV2 configs, 1170 channels.
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/ade20k_520x520.py',
    '../_base_/schedules/seg_adamw_poly_150k.py',
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
        type='hrformer_mm.HRFormer',
        arch='base',
        drop_path_rate=0.2,
        norm_cfg=norm_cfg,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrformer_base-32815020_20220226.pth')),
    neck=dict(type='hrformer_mm.HRNetV2Neck',
              in_channels=[78, 156, 312, 624], mode='v2'),
    decode_head=dict(
        type='FCNHead',
        in_channels=1170,
        in_index=0,
        channels=512,
        kernel_size=1,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
