# HRFormer-B (HRT-B) ImageNet-1K classifier, 224x224, the reference
# recipe (cls/configs/hrt/hrt_base.yaml: drop path 0.2; 300 epochs, AdamW,
# DeiT augmentation, mixup 0.8 / cutmix 1.0, label smoothing 0.1; 8 GPUs x
# 128 images).  Paper: 82.8 top-1 (96.3 top-5), 50.3M params, 13.71 GFLOPs.
_base_ = [
    '../_base_/models/hrformer_cls.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '../_base_/schedules/cls_hrformer_adamw_300e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    backbone=dict(arch='base', drop_path_rate=0.2),
    neck=dict(in_channels=(78, 156, 312, 624)))
train_dataloader = dict(batch_size=128)
auto_scale_lr = dict(base_batch_size=1024)
