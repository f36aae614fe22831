# HRNetV2 + FCN: the V2 neck upsamples every stream to 1/4 and concatenates
# them; the FCN head is a 1x1 conv + BN + ReLU on the concatenation and the
# classifier.  Defaults: HRNetV2-W18 (270 channels), 19 classes
# (Cityscapes).  The fusion upsamples bilinearly, as mmseg's HRNet.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
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
