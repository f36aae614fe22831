# HRNetV2 + FCN: hrnetv2_seg.py's concatenated streams through an FCN head
# (a 1x1 conv + BN + ReLU and the classifier).  Defaults: HRNetV2-W18 (270
# channels); each config sets num_classes from its dataset.
_base_ = ['./hrnetv2_seg.py']
model = dict(
    decode_head=dict(
        type='FCNHead',
        in_channels=270,
        in_index=0,
        channels=270,
        kernel_size=1,
        num_convs=1,
        concat_input=False,
        dropout_ratio=-1,
        norm_cfg=_base_.norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0)))
