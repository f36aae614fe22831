# HRViT-b3 ImageNet-1K classifier, 224x224, the public recipe (README's
# train.sh: 4 nodes x 8 GPUs x 32 images, lr 1e-3, weight decay 0.05,
# drop path 0.1, head dropout 0.1, 20 warm-up epochs, gradient clip 1,
# SyncBN, mixup / cutmix and label smoothing of timm's defaults).
# Paper: 82.8 top-1, 37.9M params, 5.7 GFLOPs.  No weights were released.
_base_ = [
    '../_base_/models/hrvit_cls.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '../_base_/schedules/cls_hrvit_adamw_300e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    backbone=dict(arch='b3'),
    neck=dict(in_channels=(64, 128, 256, 512)))
train_dataloader = dict(batch_size=32)
auto_scale_lr = dict(base_batch_size=1024)
