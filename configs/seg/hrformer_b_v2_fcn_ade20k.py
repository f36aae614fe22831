# HRFormer-B through the HRNetV2 neck with a plain FCN head, ADE20K:
# 520x520 crops, 150k iterations, batch 8.  No published number (the paper
# reports HRFormer-B only with OCR: 46.3 mIoU); it shows the V2 read-out is
# backbone-agnostic: the same neck and head as the HRNetV2 FCN configs, on
# HRFormer-B's 1170 concatenated channels.
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/ade20k_520x520.py',
    '../_base_/models/hrnetv2_fcn.py',
    '../_base_/schedules/seg_adamw_poly_150k.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(
        _delete_=True,
        type='hrformer_mm.HRFormer',
        arch='base',
        drop_path_rate=0.2,
        # the reference segmentation release's fusion, as in every HRFormer
        # segmentation config (see _base_/models/hrformer_ocr.py)
        upsample_cfg=dict(mode='nearest', by_factor=True, align_corners=True),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrformer_base-32815020_20220226.pth')),
    neck=dict(in_channels=[78, 156, 312, 624]),
    decode_head=dict(in_channels=1170, channels=512, dropout_ratio=0.1,
                     num_classes=150))
