# HRFormer-B + UPerNet, ADE20K: 520x520 crops, 150k iterations, batch 8.
# The HRFormer paper reports OCR only; this is the usual UPerNet recipe on
# the same schedule.
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/ade20k_520x520.py',
    '../_base_/models/hrformer_upernet.py',
    '../_base_/schedules/seg_adamw_poly_150k.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(
        arch='base',
        drop_path_rate=0.2,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrformer_base-32815020_20220226.pth')),
    decode_head=dict(in_channels=[78, 156, 312, 624]),
    auxiliary_head=dict(in_channels=312))
