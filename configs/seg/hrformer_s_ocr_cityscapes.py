# HRFormer-S + OCR, Cityscapes val: 512x1024 crops, 80k iterations, batch 8.
# Paper mIoU (single-scale / multi-scale): 80.0 / 81.0.
_base_ = [
    '../_base_/datasets/cityscapes_512x1024.py',
    '../_base_/models/hrformer_ocr.py',
    '../_base_/schedules/seg_adamw_poly_80k.py',
]
from hrformer_mm.config_helpers import ocr_heads

model = dict(data_preprocessor=dict(size=_base_.crop_size),
             decode_head=ocr_heads('small', _base_.num_classes))
