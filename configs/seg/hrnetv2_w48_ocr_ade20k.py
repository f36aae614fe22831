# HRNetV2-W48 + OCR, ADE20K val: 512x512 crops, 160k iterations, batch 16.
# Paper (OCR): 44.5 / 45.5 mIoU (single / multi-scale); mmseg
# ocrnet_hr48_4xb4-160k_ade20k-512x512: 43.25 (44.88 ms+flip).
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/ade20k_520x520.py',
    '../_base_/models/hrnetv2_ocr.py',
    '../_base_/schedules/seg_sgd_poly_160k.py',
]
from hrformer_mm.config_helpers import ocr_heads

crop_size = (512, 512)
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(data_preprocessor=dict(size=crop_size),
             decode_head=ocr_heads(720, 150, norm_cfg, ohem_min_kept=None,
                                   preset='mmseg'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=4,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
