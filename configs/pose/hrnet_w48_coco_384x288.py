# HRNet-W48, COCO top-down, 384x288, V1 read-out.  Paper (Sun et al. 2019,
# val2017): 76.3 AP; mmpose td-hm_hrnet-w48_8xb32-210e_coco-384x288: 76.7.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w48_8xb32-210e_coco-384x288.py
_base_ = [
    '../_base_/datasets/coco_topdown_384x288.py',
    '../_base_/models/hrnet_topdown_heatmap.py',
    '../_base_/schedules/pose_adam_210e.py',
]
model = dict(
    backbone=dict(
        arch='w48',
        init_cfg=dict(
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrnet_w48-8ef0771d.pth')),
    neck=dict(in_channels=[48]),
    head=dict(in_channels=48, decoder=_base_.codec))
