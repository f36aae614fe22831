# HRNetV2-W48 + OCR, ADE20K val: 512x512 crops, 160k iterations, batch 16.
# Paper (OCR): 44.5 / 45.5 mIoU (single / multi-scale); mmseg
# ocrnet_hr48_4xb4-160k_ade20k-512x512: 43.25 (44.88 ms+flip).
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmseg::ocrnet/ocrnet_hr48_4xb4-160k_ade20k-512x512.py
_base_ = [
    '../_base_/datasets/ade20k_512x512.py',
    '../_base_/models/hrnetv2_ocr.py',
    '../_base_/schedules/seg_sgd_poly_160k.py',
]
from hrformer_mm.config_helpers import ocr_heads

model = dict(data_preprocessor=dict(size=_base_.crop_size),
             decode_head=ocr_heads(720, _base_.num_classes,
                                   ohem_min_kept=None, preset='mmseg'))
train_dataloader = dict(batch_size=4)
