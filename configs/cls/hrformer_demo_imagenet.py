# The classification demo: an HRFormer-T classifier (the HRFormer ImageNet
# model of configs/_base_/models/hrformer_cls.py) trained from scratch on
# the synthetic ImageNet-layout images that `tools/generate_demo_data.py
# --out data/demo/cls --only cls` writes to data/demo/cls/imagenet (10
# classes, 40 train / 10 val images per class, 64x64).  Same model class,
# mmpretrain CustomDataset and Accuracy metric as the ImageNet configs;
# small images, no mixup / cutmix, plain cross-entropy and a short schedule
# for 2 CPU cores.
#
# The backbone is exactly the pose demo's (configs/pose/hrformer_demo_coco.py:
# arch 'tiny', BN, no drop path, the pose release's fusion upsampling), so
# its checkpoint initialises that model's backbone with nothing missing
# (the second step of `bash tools/demo.sh --family cls`).
_base_ = [
    '../_base_/models/hrformer_cls.py',
    '../_base_/cls_runtime.py',
]

num_classes = 10
data_root = 'data/demo/cls/imagenet/'
model = dict(
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=num_classes,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        arch='tiny',
        drop_path_rate=0.0,
        norm_cfg=dict(type='BN', requires_grad=True),
        # the HRFormer default (the pose release's bilinear fusion), as the
        # pose demo builds it
        upsample_cfg=dict(_delete_=True, mode='bilinear', by_factor=False,
                          align_corners=False)),
    neck=dict(in_channels=(18, 36, 72, 144)),
    head=dict(
        num_classes=num_classes,
        loss=dict(_delete_=True, type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )),
    # mixup / cutmix slow a short schedule down more than they regularise
    train_cfg=None)

dataset_type = 'CustomDataset'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.6, 1.0),
         backend='cv2'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]
# the folder layout: classes are the sorted folder names
train_dataloader = dict(
    batch_size=16, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='train'),
                 pipeline=train_pipeline))
# the same loader over val/, in order, with the test pipeline
val_dataloader = dict(
    train_dataloader, batch_size=32,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], data_prefix=dict(img_path='val'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

max_epochs = 6
train_cfg = dict(by_epoch=True, max_epochs=max_epochs,
                 val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05,
                   betas=(0.9, 0.999)),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       flat_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=25, start_factor=0.01,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, by_epoch=True,
         eta_min=1e-5)
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1, save_best=None))
randomness = dict(seed=0)
