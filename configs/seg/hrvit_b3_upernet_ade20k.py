# HRViT-b3 + UPerNet (+ auxiliary FCN head), ADE20K: 512x512 crops, 160k
# iterations, batch 16.  Paper (ADE20K val): 50.04 mIoU (55.4M, 236 GFLOPs).
# The public b3 UPerNet config builds b1 by mistake; this one builds b3.
# Otherwise hrvit_b1_upernet_ade20k.py's recipe.
_base_ = ['./hrvit_b1_upernet_ade20k.py']
model = dict(
    backbone=dict(arch='b3', drop_path_rate=0.3),
    decode_head=dict(in_channels=[64, 128, 256, 512]),
    auxiliary_head=dict(in_channels=256))
