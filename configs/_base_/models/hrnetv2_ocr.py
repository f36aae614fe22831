# HRNetV2-W48 + OCR: hrnetv2_seg.py's concatenated streams (720 channels);
# an auxiliary FCN head on them gives the soft object regions, the OCR head
# (3x3 conv to 512, object context with 256 keys) predicts.  Each config
# adds the heads with hrformer_mm.config_helpers.ocr_heads(720,
# num_classes, ohem_min_kept=None, preset='mmseg'): mmseg's OCRNet recipe
# (1x1 auxiliary conv, align_corners=False).
_base_ = ['./hrnetv2_seg.py']
model = dict(
    type='CascadeEncoderDecoder',
    num_stages=2,
    backbone=dict(
        arch='w48',
        init_cfg=dict(checkpoint='open-mmlab://msra/hrnetv2_w48')),
    neck=dict(in_channels=[48, 96, 192, 384]))
