# HRFormer-S + UPerNet, ADE20K: 520x520 crops, 150k iterations, batch 8.
# The HRFormer paper reports OCR only; this is the usual UPerNet recipe on
# the same schedule.
_base_ = [
    '../_base_/datasets/ade20k_520x520.py',
    '../_base_/models/hrformer_upernet.py',
    '../_base_/schedules/seg_adamw_poly_150k.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
