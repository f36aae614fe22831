# HRFormer-B + OCR: the heads of hrformer_ocr.py on B's 1170 concatenated
# channels, 150 classes (ADE20K).
_base_ = ['./hrformer_ocr.py']

from hrformer_mm.config_helpers import ocr_heads

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.2,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrformer_base-32815020_20220226.pth')),
    decode_head=ocr_heads([78, 156, 312, 624], 150, norm_cfg))
