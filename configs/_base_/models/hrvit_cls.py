# HRViT ImageNet classifier as the public code builds it
# (facebookresearch/HRViT, models/hrvit.py, HRViTClassifier): plain
# bottlenecks to 128 / 256 / 512 / 1024 channels, 3x3 stride-2 conv + BN +
# ReLU downsampling and summation, 1x1 conv to 2048, global pool, dropout
# (--head-drop 0.1), linear.  SyncBN as its recipe (--sync-bn).
# Defaults: HRViT-b1.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='hrformer_mm.HRViT',
        arch='b1',
        drop_path_rate=0.1,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg),
    neck=dict(
        type='hrformer_mm.HRClassificationNeck',
        in_channels=(32, 64, 128, 256),
        depthwise=False,
        dropout=0.1,
        norm_cfg=norm_cfg),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                  mode='original'),
        cal_acc=False),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]))
