# HRFormer-B + OCR with 13x13 windows, ADE20K val.
# Paper mIoU (single-scale / multi-scale): 48.7 / 50.0.
_base_ = ['./hrformer_b_ocr_ade20k.py']
model = dict(backbone=dict(window_sizes=13))
