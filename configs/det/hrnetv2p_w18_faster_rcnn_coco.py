# Faster R-CNN with HRNetV2p-W18, COCO, 1x: mmdet's
# faster-rcnn_hrnetv2p-w18-1x_coco, 36.9 box AP (checkpoint
# faster_rcnn_hrnetv2p_w18_1x_coco_20200130-56651a6d.pth).  The W32 config
# with W18's widths, as mmdet derives its W18 config.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmdet::hrnet/faster-rcnn_hrnetv2p-w18-1x_coco.py
_base_ = './hrnetv2p_w32_faster_rcnn_coco.py'
from hrformer_mm.config_helpers import hrnetv2p

model = hrnetv2p('w18')
