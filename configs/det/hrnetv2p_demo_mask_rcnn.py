# The detection demo: Mask R-CNN on a small HRNetV2p (V2p neck), trained
# from scratch on the synthetic COCO-instance objects (people, cars, balls)
# that `tools/generate_demo_data.py --only det` writes to data/demo/det/coco.
# mmdet's CocoDataset, pipelines and CocoMetric (box and mask AP), the W18
# Mask R-CNN config's model with every width cut down for 2 CPU cores:
# 160x160 images, a 1.4M-parameter HRNet, 64-channel pyramid and heads,
# fewer proposals and sampled RoIs, 8 epochs (304 iterations of 8 images).
# Measured with `OMP_NUM_THREADS=1 bash tools/demo.sh --family det` on the
# 2-core development VM: box AP 0.481 (AP50 0.828) and mask AP 0.352 (AP50
# 0.684) on the 60 validation images, against 0.000 / 0.000 untrained; 516 s
# on the idle machine (setup excluded, 8.6 minutes with it), 908 s while
# other jobs held it at load 4.6.  See docs/hrnet.md "Detection demo".
_base_ = ['./hrnetv2p_w18_mask_rcnn_coco.py']

data_root = 'data/demo/det/coco/'
classes = ('person', 'car', 'sports ball')
metainfo = dict(classes=classes)
channels = [16, 32, 64, 128]
width = 64
model = dict(
    backbone=dict(
        # _delete_: a dict replaces the base's arch name
        arch=dict(_delete_=True, channels=channels, num_modules=(1, 1, 1),
                  num_blocks=2, stage1_blocks=1, stage1_channels=32),
        # from scratch, so the BN statistics must be learnt
        norm_eval=False, init_cfg=None),
    neck=dict(in_channels=channels, out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(in_channels=width, fc_out_channels=256,
                       num_classes=len(classes)),
        mask_roi_extractor=dict(out_channels=width),
        mask_head=dict(num_convs=2, in_channels=width,
                       conv_out_channels=width, num_classes=len(classes))),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=300, max_per_img=100),
        rcnn=dict(max_per_img=30)))

image_scale = (160, 160)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=True,
    dataset=dict(data_root=data_root, metainfo=metainfo,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=True,
    dataset=dict(data_root=data_root, metainfo=metainfo,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=50),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, by_epoch=True,
         eta_min=1e-5)
]
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
log_processor = dict(window_size=10)
randomness = dict(seed=0)
