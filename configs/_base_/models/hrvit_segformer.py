# HRViT + SegFormer all-MLP head (plain linear projections, as in the HRViT
# release).  Defaults: HRViT-b1, 256 head channels; each config sets the
# head's num_classes from its dataset.
_base_ = ['./seg_encoder_decoder.py']
from hrformer_mm.config_helpers import hrvit_backbone

model = dict(
    backbone=hrvit_backbone(),
    decode_head=dict(
        type='hrformer_mm.SegFormerMLPHead',
        in_channels=[32, 64, 128, 256],
        in_index=[0, 1, 2, 3],
        channels=256,
        dropout_ratio=0.1,
        norm_cfg=_base_.norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0)))
