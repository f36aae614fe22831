# HRFormer-B through the HRNetV2 neck with a plain FCN head, ADE20K:
# 520x520 crops, 150k iterations, batch 8.  No published number (the paper
# reports HRFormer-B only with OCR: 46.3 mIoU); it shows the V2 read-out is
# backbone-agnostic: the same neck and head as the HRNetV2 FCN configs, on
# HRFormer-B's 1170 concatenated channels, behind the backbone of every
# HRFormer segmentation config (_base_/models/hrformer_seg.py).
_base_ = [
    '../_base_/datasets/ade20k_520x520.py',
    '../_base_/models/hrnetv2_fcn.py',
    '../_base_/schedules/seg_adamw_poly_150k.py',
]
from hrformer_mm.config_helpers import pretrained_hrformer

model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(
        _delete_=True,
        type='hrformer_mm.HRFormer',
        upsample_cfg=dict(mode='nearest', by_factor=True, align_corners=True),
        norm_cfg=_base_.norm_cfg,
        **pretrained_hrformer('base', 0.2)),
    neck=dict(in_channels=[78, 156, 312, 624]),
    decode_head=dict(in_channels=1170, channels=512, dropout_ratio=0.1,
                     num_classes=_base_.num_classes))
