# HRFormer-B, COCO top-down, 384x288.  Paper: 77.2 AP (drop path 0.3, as
# here); mmpose retrained with 0.2 and reports 77.4.
_base_ = [
    '../_base_/pose_runtime.py',
    '../_base_/datasets/coco_topdown_384x288.py',
    '../_base_/models/hrformer_topdown_heatmap.py',
    '../_base_/schedules/pose_adamw_210e.py',
]
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrformer_base-32815020_20220226.pth')),
    head=dict(in_channels=78, decoder=_base_.codec))
