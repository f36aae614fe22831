# COCO person keypoints, top-down, 384x288 input, SimCC labels (sigma 6.0,
# split ratio 2.0, as mmpose's simcc_res50_8xb32-140e_coco-384x288).
_base_ = ['./coco_topdown_simcc_256x192.py']
codec = dict(type='SimCCLabel', input_size=(288, 384), sigma=6.0,
             simcc_split_ratio=2.0)
simcc_codec = codec
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
