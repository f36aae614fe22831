# HRFormer-B + OCR with 15x15 windows, COCO-Stuff.
# Paper mIoU (single-scale / multi-scale): 42.4 / 43.3.
_base_ = ['./hrformer_b_ocr_cocostuff.py']
model = dict(backbone=dict(window_sizes=15))
