# HRFormer + OCR (HRFormer paper, Sec. 4.3): all four streams upsampled to
# 1/4 and concatenated; an auxiliary FCN head on the concatenation gives the
# soft object regions; the OCR head (3x3 conv to 512 channels, object context
# with 256 key channels) predicts, trained with OHEM cross-entropy.
# Defaults: HRFormer-S, 150 classes (ADE20K).  mmengine replaces lists on
# inheritance, so configs that change the width or the classes rebuild the
# list with hrformer_mm.config_helpers.ocr_heads, which writes the same heads.

norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='CascadeEncoderDecoder',
    data_preprocessor=data_preprocessor,
    num_stages=2,
    pretrained=None,
    backbone=dict(
        type='hrformer_mm.HRFormer',
        arch='small',
        drop_path_rate=0.1,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrformer_small-09516375_20220226.pth')),
    decode_head=[
        dict(
            type='FCNHead',
            in_channels=[32, 64, 128, 256],
            channels=480,
            in_index=(0, 1, 2, 3),
            input_transform='resize_concat',
            kernel_size=1,
            num_convs=1,
            concat_input=False,
            dropout_ratio=-1,
            num_classes=150,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
        dict(
            type='OCRHead',
            in_channels=[32, 64, 128, 256],
            in_index=(0, 1, 2, 3),
            input_transform='resize_concat',
            channels=512,
            ocr_channels=256,
            dropout_ratio=-1,
            num_classes=150,
            norm_cfg=norm_cfg,
            align_corners=False,
            sampler=dict(type='OHEMPixelSampler', thresh=0.9,
                         min_kept=131072),
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    ],
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
