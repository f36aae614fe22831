# HRViT-b3 + SegFormer all-MLP head, ADE20K: 512x512 crops, 160k
# iterations, batch 16.  Paper (ADE20K val, single scale): 50.20 mIoU (28.7M params, 67.9 GFLOPs).
# Otherwise hrvit_b1_segformer_ade20k.py's recipe.
_base_ = ['./hrvit_b1_segformer_ade20k.py']
model = dict(
    backbone=dict(arch='b3', drop_path_rate=0.3),
    decode_head=dict(in_channels=[64, 128, 256, 512], channels=768))
