# HRFormer + UPerNet: the backbone of hrformer_seg.py (the reference
# segmentation release's fusion, which the segmentation checkpoints were
# trained with); pyramid pooling on the lowest stream and an FPN over all
# four, plus an auxiliary FCN head on the 1/16 stream.  Defaults:
# HRFormer-S; each config sets the heads' num_classes from its dataset.
_base_ = ['./hrformer_seg.py']
model = dict(
    decode_head=dict(
        type='UPerHead',
        in_channels=[32, 64, 128, 256],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        norm_cfg=_base_.norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=128,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        norm_cfg=_base_.norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=0.4)))
