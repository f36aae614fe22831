# HRFormer-B + OCR with 15x15 windows, PASCAL-Context 59.
# Paper mIoU (single-scale / multi-scale): 57.6 / 58.5.
_base_ = ['./hrformer_b_ocr_pascal_context.py']
model = dict(backbone=dict(window_sizes=15))
