# HRNetV2 + OCR: the V2 neck upsamples every stream to 1/4 and concatenates
# them (the heads no longer do it themselves); an auxiliary FCN head on the
# concatenation gives the soft object regions, the OCR head (3x3 conv to 512,
# object context with 256 keys) predicts.  Defaults: W48 (720 concatenated
# channels), 19 classes (Cityscapes).  The fusion upsamples bilinearly, as
# mmseg's HRNet, so mmseg's HRNet checkpoints load and compute the same.
# Each config adds the heads with hrformer_mm.config_helpers.ocr_heads(720,
# num_classes, norm_cfg, ohem_min_kept=None, preset='mmseg'): mmseg's OCRNet
# recipe (1x1 auxiliary conv, align_corners=False), on the
# neck's 720 channels (a config file that imports cannot be a base here).

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
        type='hrformer_mm.HRNet',
        arch='w48',
        upsample_mode='bilinear',
        norm_cfg=norm_cfg,
        init_cfg=dict(type='Pretrained',
                      checkpoint='open-mmlab://msra/hrnetv2_w48')),
    neck=dict(type='hrformer_mm.HRNetV2Neck', in_channels=[48, 96, 192, 384],
              mode='v2'),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
