# HRNet-W32, COCO top-down, 256x192, V1 read-out.  Paper (Sun et al. 2019,
# val2017): 74.4 AP; mmpose td-hm_hrnet-w32_8xb64-210e_coco-256x192: 74.6.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py
_base_ = [
    '../_base_/datasets/coco_topdown_256x192.py',
    '../_base_/models/hrnet_topdown_heatmap.py',
    '../_base_/schedules/pose_adam_210e.py',
]
train_dataloader = dict(batch_size=64)
model = dict(head=dict(decoder=_base_.codec))
