# HRViT-b2 ImageNet-1K classifier: HRViT-b1's recipe.
# Paper: 82.3 top-1, 32.5M params, 5.1 GFLOPs.  No weights were released.
_base_ = './hrvit_b1_imagenet.py'
model = dict(
    backbone=dict(arch='b2'),
    neck=dict(in_channels=(48, 96, 240, 384)))
