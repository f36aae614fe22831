# HRFormer-B + OCR, Cityscapes val: 512x1024 crops, 80k iterations, batch 8.
# Paper mIoU (single-scale / multi-scale): 81.4 / 82.0.
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/cityscapes_512x1024.py',
    '../_base_/models/hrformer_b_ocr.py',
    '../_base_/schedules/seg_adamw_poly_80k.py',
]

from hrformer_mm.config_helpers import ocr_heads

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=ocr_heads([78, 156, 312, 624], 19, norm_cfg))
