# HRFormer-S + OCR, PASCAL-Context 59: 520x520 crops, 60k iterations, batch 16.
# Paper mIoU (single-scale / multi-scale): 53.8 / 54.6.
_base_ = [
    '../_base_/datasets/pascal_context59_520x520.py',
    '../_base_/models/hrformer_ocr.py',
    '../_base_/schedules/seg_adamw_poly_60k.py',
]
from hrformer_mm.config_helpers import ocr_heads

model = dict(data_preprocessor=dict(size=_base_.crop_size),
             decode_head=ocr_heads('small', _base_.num_classes))
# 4 GPUs x 4 images
auto_scale_lr = dict(base_batch_size=16)
