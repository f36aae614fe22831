# WFLW facial landmarks (98 points), top-down, 256x256 input / 64x64
# heatmaps; NME normalised by the outer eye corners (points 60 and 72).
_base_ = []  # a config that imports needs a _base_ (else: lazy import)
from hrformer_mm.config_helpers import topdown_pipelines

codec = dict(type='MSRAHeatmap', input_size=(256, 256),
             heatmap_size=(64, 64), sigma=2)
dataset_type = 'WFLWDataset'
data_mode = 'topdown'
data_root = 'data/wflw/'
train_pipeline, val_pipeline = topdown_pipelines(
    codec, half_body=False, shift_prob=0, rotate_factor=60,
    scale_factor=(0.75, 1.25))
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/face_landmarks_wflw_train.json',
        data_prefix=dict(img='images/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/face_landmarks_wflw_test.json',
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='NME', norm_mode='keypoint_distance')
test_evaluator = val_evaluator
