# HRFormer-S + OCR, ADE20K, 520x520, 150k iterations, batch 8.
# Paper: 44.0 mIoU single-scale / 45.1 multi-scale.
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/ade20k_520x520.py',
    '../_base_/models/hrformer_ocr.py',
    '../_base_/schedules/seg_adamw_poly_150k.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(
        arch='small',
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrformer_small-09516375_20220226.pth')))
