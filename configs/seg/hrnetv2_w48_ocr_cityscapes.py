# HRNetV2-W48 + OCR, Cityscapes val: 512x1024 crops, 160k iterations, batch
# 8.  Paper (OCR, HRNetV2 TPAMI): 81.6 mIoU; mmseg
# ocrnet_hr48_4xb2-160k_cityscapes-512x1024: 81.35 (82.70 ms+flip).
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmseg::ocrnet/ocrnet_hr48_4xb2-160k_cityscapes-512x1024.py
_base_ = [
    '../_base_/datasets/cityscapes_512x1024.py',
    '../_base_/models/hrnetv2_ocr.py',
    '../_base_/schedules/seg_sgd_poly_160k.py',
]
from hrformer_mm.config_helpers import ocr_heads

model = dict(data_preprocessor=dict(size=_base_.crop_size),
             decode_head=ocr_heads(720, _base_.num_classes,
                                   ohem_min_kept=None, preset='mmseg'))
train_dataloader = dict(batch_size=2)
