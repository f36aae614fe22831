# HRViT-b3 + SegFormer all-MLP head, Cityscapes: 1024x1024 crops, 160k
# iterations, batch 8, sliding-window test (1024, stride 768).
# Paper (Cityscapes val): 83.16 mIoU (28.6M).
# Otherwise hrvit_b1_segformer_cityscapes.py's recipe.
_base_ = ['./hrvit_b1_segformer_cityscapes.py']
model = dict(
    backbone=dict(arch='b3', drop_path_rate=0.3),
    decode_head=dict(in_channels=[64, 128, 256, 512], channels=768))
