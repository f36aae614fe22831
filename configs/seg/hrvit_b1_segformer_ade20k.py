# HRViT-b1 + SegFormer all-MLP head, ADE20K: 512x512 crops, 160k
# iterations, batch 16.  Paper (ADE20K val, single scale): 45.88 mIoU (8.2M params, 14.6 GFLOPs).
_base_ = [
    '../_base_/datasets/ade20k_512x512.py',
    '../_base_/models/hrvit_segformer.py',
    '../_base_/schedules/seg_adamw_poly_160k.py',
]
model = dict(data_preprocessor=dict(size=_base_.crop_size),
             decode_head=dict(num_classes=_base_.num_classes))
