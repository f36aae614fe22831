# HRViT ImageNet classifier as the public code builds it
# (facebookresearch/HRViT, models/hrvit.py, HRViTClassifier): plain
# bottlenecks to 128 / 256 / 512 / 1024 channels, 3x3 stride-2 conv + BN +
# ReLU downsampling and summation, 1x1 conv to 2048, global pool, dropout
# (--head-drop 0.1), linear; the head and its losses are HRFormer's.
# SyncBN as its recipe (--sync-bn).  Defaults: HRViT-b1.
_base_ = ['./hrformer_cls.py']
from hrformer_mm.config_helpers import hrvit_backbone

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(_delete_=True, **hrvit_backbone(norm_cfg=norm_cfg)),
    neck=dict(
        in_channels=(32, 64, 128, 256),
        depthwise=False,
        dropout=0.1,
        norm_cfg=norm_cfg))
