# HRViT-b3 + UPerNet (+ auxiliary FCN head), ADE20K: 512x512 crops, 160k
# iterations, batch 16.  Paper (ADE20K val): 50.04 mIoU (55.4M, 236 GFLOPs).
# The public b3 UPerNet config builds b1 by mistake; this one builds b3.
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/ade20k_512x512.py',
    '../_base_/models/hrvit_upernet.py',
    '../_base_/schedules/seg_adamw_poly_160k.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(arch='b3', drop_path_rate=0.3),
    decode_head=dict(in_channels=[64, 128, 256, 512]),
    auxiliary_head=dict(in_channels=256))
