# HRFormer-B + OCR, Cityscapes val: hrformer_s_ocr_cityscapes.py's recipe.
# Paper mIoU (single-scale / multi-scale): 81.4 / 82.0.
_base_ = ['./hrformer_s_ocr_cityscapes.py']
from hrformer_mm.config_helpers import ocr_heads, pretrained_hrformer

model = dict(backbone=pretrained_hrformer('base', 0.2),
             decode_head=ocr_heads('base', _base_.num_classes))
