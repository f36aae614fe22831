# HRFormer-S (HRT-S) ImageNet-1K classifier, 224x224, the reference
# recipe (cls/configs/hrt/hrt_small.yaml: drop path 0.0; 300 epochs, AdamW,
# DeiT augmentation, mixup 0.8 / cutmix 1.0, label smoothing 0.1; 8 GPUs x
# 128 images).  Paper: 81.2 top-1 (95.6 top-5), 13.5M params, 3.56 GFLOPs.
_base_ = [
    '../_base_/models/hrformer_cls.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '../_base_/schedules/cls_hrformer_adamw_300e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    backbone=dict(arch='small', drop_path_rate=0.0),
    neck=dict(in_channels=(32, 64, 128, 256)))
train_dataloader = dict(batch_size=128)
auto_scale_lr = dict(base_batch_size=1024)
