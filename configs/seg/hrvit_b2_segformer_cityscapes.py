# HRViT-b2 + SegFormer all-MLP head, Cityscapes: 1024x1024 crops, 160k
# iterations, batch 8, sliding-window test (1024, stride 768).
# Paper (Cityscapes val): 82.81 mIoU (20.8M).
# The third branch is 240 wide: the public b2 configs say 192 (a mismatch).
_base_ = [
    '../_base_/seg_runtime.py',
    '../_base_/datasets/cityscapes_1024x1024.py',
    '../_base_/models/hrvit_segformer.py',
    '../_base_/schedules/seg_adamw_poly_160k.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(arch='b2', drop_path_rate=0.2),
    decode_head=dict(in_channels=[48, 96, 240, 384],
                     num_classes=19),
    test_cfg=dict(mode='slide', crop_size=(1024, 1024), stride=(768, 768)))
# 8 GPUs x 1 image
auto_scale_lr = dict(base_batch_size=8)
