# HRFormer-B + OCR, COCO-Stuff: hrformer_s_ocr_cocostuff.py's recipe.
# Paper mIoU (single-scale / multi-scale): 41.6 / 42.5.
_base_ = ['./hrformer_s_ocr_cocostuff.py']
from hrformer_mm.config_helpers import ocr_heads, pretrained_hrformer

model = dict(backbone=pretrained_hrformer('base', 0.2),
             decode_head=ocr_heads('base', _base_.num_classes))
