# HRFormer-B + OCR, PASCAL-Context 59: hrformer_s_ocr_pascal_context.py's
# recipe.
# Paper mIoU (single-scale / multi-scale): 56.3 / 57.1.
_base_ = ['./hrformer_s_ocr_pascal_context.py']
from hrformer_mm.config_helpers import ocr_heads, pretrained_hrformer

model = dict(backbone=pretrained_hrformer('base', 0.2),
             decode_head=ocr_heads('base', _base_.num_classes))
