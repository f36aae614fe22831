# HRFormer-B + OCR, ADE20K val: hrformer_s_ocr_ade20k.py's recipe.
# Paper mIoU (single-scale / multi-scale): 46.3 / 47.6.
_base_ = ['./hrformer_s_ocr_ade20k.py']
from hrformer_mm.config_helpers import ocr_heads, pretrained_hrformer

model = dict(backbone=pretrained_hrformer('base', 0.2),
             decode_head=ocr_heads('base', _base_.num_classes))
