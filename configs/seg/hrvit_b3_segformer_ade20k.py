# HRViT-b3 + SegFormer all-MLP head, ADE20K: 512x512 crops, 160k
# iterations, batch 16.  Paper (ADE20K val, single scale): 50.20 mIoU (28.7M params, 67.9 GFLOPs).
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/ade20k_512x512.py',
    '../_base_/models/hrvit_segformer.py',
    '../_base_/schedules/seg_adamw_poly_160k.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(arch='b3', drop_path_rate=0.3),
    decode_head=dict(in_channels=[64, 128, 256, 512],
        channels=768,
                     num_classes=150))
