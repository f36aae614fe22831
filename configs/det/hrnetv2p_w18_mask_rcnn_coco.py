# Mask R-CNN with HRNetV2p-W18, COCO, 1x: mmdet's
# mask-rcnn_hrnetv2p-w18-1x_coco, 37.7 box AP / 34.2 mask AP (checkpoint
# mask_rcnn_hrnetv2p_w18_1x_coco_20200205-1c3d78ed.pth).
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmdet::hrnet/mask-rcnn_hrnetv2p-w18-1x_coco.py
_base_ = './hrnetv2p_w32_mask_rcnn_coco.py'
from hrformer_mm.config_helpers import hrnetv2p

model = hrnetv2p('w18')
