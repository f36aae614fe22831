# HRFormer ImageNet classifier as the reference builds it
# (github.com/HRNet/HRFormer, cls/models/hrt.py): the backbone's four streams
# through the depthwise increment bottlenecks, depthwise-separable
# downsampling and summation, 1x1 conv to 2048, global pool, linear.  The
# reference cls/ fusion upsamples as its seg/ code does (nearest by a fixed
# factor, then a bilinear align_corners=True resize), and it adds the
# relative position bias.  Plain BN: the reference trains without SyncBN.
# Defaults: HRFormer-S.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='hrformer_mm.HRFormer',
        arch='small',
        drop_path_rate=0.,
        out_indices=(0, 1, 2, 3),
        upsample_cfg=dict(mode='nearest', by_factor=True,
                          align_corners=True)),
    neck=dict(
        type='hrformer_mm.HRClassificationNeck',
        in_channels=(32, 64, 128, 256),
        depthwise=True),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        # with mixup / cutmix the reference smooths the mixed targets by
        # 0.1 (timm's Mixup(label_smoothing=0.1)): the same targets
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                  mode='original'),
        cal_acc=False),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]))
