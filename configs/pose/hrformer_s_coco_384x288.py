# HRFormer-S, COCO top-down, 384x288.  Paper: 75.6 AP; mmpose retrain 75.7.
_base_ = [
    '../_base_/pose_runtime.py',
    '../_base_/datasets/coco_topdown_384x288.py',
    '../_base_/models/hrformer_topdown_heatmap.py',
    '../_base_/schedules/pose_adamw_210e.py',
]
model = dict(
    backbone=dict(
        arch='small',
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrformer_small-09516375_20220226.pth')),
    head=dict(in_channels=32, decoder=_base_.codec))
