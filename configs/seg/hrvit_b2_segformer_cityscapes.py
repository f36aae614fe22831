# HRViT-b2 + SegFormer all-MLP head, Cityscapes: 1024x1024 crops, 160k
# iterations, batch 8, sliding-window test (1024, stride 768).
# Paper (Cityscapes val): 82.81 mIoU (20.8M).
# The third branch is 240 wide: the public b2 configs say 192 (a mismatch).
# Otherwise hrvit_b1_segformer_cityscapes.py's recipe.
_base_ = ['./hrvit_b1_segformer_cityscapes.py']
model = dict(
    backbone=dict(arch='b2', drop_path_rate=0.2),
    decode_head=dict(in_channels=[48, 96, 240, 384]))
