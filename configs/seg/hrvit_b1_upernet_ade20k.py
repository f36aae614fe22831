# HRViT-b1 + UPerNet (+ auxiliary FCN head), ADE20K: 512x512 crops, 160k
# iterations, batch 16.  Paper (ADE20K val): 47.19 mIoU (35.9M, 219 GFLOPs).
_base_ = [
    '../_base_/datasets/ade20k_512x512.py',
    '../_base_/models/hrvit_upernet.py',
    '../_base_/schedules/seg_adamw_poly_160k.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
