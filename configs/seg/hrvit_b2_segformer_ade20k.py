# HRViT-b2 + SegFormer all-MLP head, ADE20K: 512x512 crops, 160k
# iterations, batch 16.  Paper (ADE20K val, single scale): 48.76 mIoU (20.8M params, 28.0 GFLOPs).
# The third branch is 240 wide: the public b2 configs say 192 (a mismatch).
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/ade20k_512x512.py',
    '../_base_/models/hrvit_segformer.py',
    '../_base_/schedules/seg_adamw_poly_160k.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(arch='b2', drop_path_rate=0.2),
    decode_head=dict(in_channels=[48, 96, 240, 384],
                     num_classes=150))
