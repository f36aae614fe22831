# HRViT-b3 ImageNet-1K classifier: HRViT-b1's recipe.
# Paper: 82.8 top-1, 37.9M params, 5.7 GFLOPs.  No weights were released.
_base_ = './hrvit_b1_imagenet.py'
model = dict(
    backbone=dict(arch='b3'),
    neck=dict(in_channels=(64, 128, 256, 512)))
