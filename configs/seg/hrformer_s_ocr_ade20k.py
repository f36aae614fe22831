# HRFormer-S + OCR, ADE20K val: 520x520 crops, 150k iterations, batch 8.
# Paper mIoU (single-scale / multi-scale): 44.0 / 45.1.
_base_ = [
    '../_base_/datasets/ade20k_520x520.py',
    '../_base_/models/hrformer_ocr.py',
    '../_base_/schedules/seg_adamw_poly_150k.py',
]
from hrformer_mm.config_helpers import ocr_heads

model = dict(data_preprocessor=dict(size=_base_.crop_size),
             decode_head=ocr_heads('small', _base_.num_classes))
