# HRFormer-T, COCO top-down, 256x192.  Paper: 70.9 AP (no public pose
# checkpoint or config existed for T; this one follows the S recipe).
_base_ = [
    '../_base_/datasets/coco_topdown_256x192.py',
    '../_base_/models/hrformer_topdown_heatmap.py',
    '../_base_/schedules/pose_adamw_210e.py',
]
model = dict(
    backbone=dict(arch='tiny', drop_path_rate=0.0),
    head=dict(in_channels=18, decoder=_base_.codec))
