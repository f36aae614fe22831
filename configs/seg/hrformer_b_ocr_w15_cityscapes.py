# HRFormer-B + OCR with 15x15 windows, Cityscapes val.
# Paper mIoU (single-scale / multi-scale): 81.9 / 82.6.
_base_ = ['./hrformer_b_ocr_cityscapes.py']
model = dict(backbone=dict(window_sizes=15))
