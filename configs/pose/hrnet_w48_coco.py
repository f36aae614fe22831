# HRNet-W48, COCO top-down, 256x192, V1 read-out.  Paper (Sun et al. 2019,
# val2017): 75.1 AP; mmpose td-hm_hrnet-w48_8xb32-210e_coco-256x192: 75.6.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w48_8xb32-210e_coco-256x192.py
_base_ = ['./hrnet_w32_coco.py']
train_dataloader = dict(batch_size=32)
model = dict(
    backbone=dict(
        arch='w48',
        init_cfg=dict(
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrnet_w48-8ef0771d.pth')),
    neck=dict(in_channels=[48]),
    head=dict(in_channels=48))
