# HRViT-b2 + UPerNet (+ auxiliary FCN head), ADE20K: 512x512 crops, 160k
# iterations, batch 16.  Paper (ADE20K val): 49.10 mIoU (49.7M, 233 GFLOPs).
# The third branch is 240 wide: the public b2 configs say 192 (a mismatch).
# Otherwise hrvit_b1_upernet_ade20k.py's recipe.
_base_ = ['./hrvit_b1_upernet_ade20k.py']
model = dict(
    backbone=dict(arch='b2', drop_path_rate=0.2),
    decode_head=dict(in_channels=[48, 96, 240, 384]),
    auxiliary_head=dict(in_channels=240))
