# HRViT-b1 + SegFormer all-MLP head, Cityscapes: 1024x1024 crops, 160k
# iterations, batch 8, sliding-window test (1024, stride 768).
# Paper (Cityscapes val): 81.63 mIoU (8.1M).  Drop path 0.15 as in the
# public b1 Cityscapes config.
_base_ = [
    '../_base_/datasets/cityscapes_1024x1024.py',
    '../_base_/models/hrvit_segformer.py',
    '../_base_/schedules/seg_adamw_poly_160k.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(drop_path_rate=0.15),
    decode_head=dict(num_classes=_base_.num_classes),
    test_cfg=dict(mode='slide', crop_size=(1024, 1024), stride=(768, 768)))
# 8 GPUs x 1 image
auto_scale_lr = dict(base_batch_size=8)
