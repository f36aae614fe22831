# Faster R-CNN with HRNetV2p-W32 (the V2p read-out: V2 reduced to 256
# channels, pooled into 5 levels at strides 4-64, a 3x3 conv per level),
# COCO, 1x schedule: mmdet's faster-rcnn_hrnetv2p-w32-1x_coco, 40.2 box AP
# (checkpoint faster_rcnn_hrnetv2p_w32_1x_coco_20200130-6e286425.pth).
# Everything but the backbone and neck is mmdet's own config;
# norm_cfg=None / act_cfg=None make the neck mmdet's HRFPN exactly (same
# keys, so mmdet's checkpoints load).  norm_eval=True is mmdet's HRNet
# default (BN statistics frozen at their ImageNet values, batch 2 per GPU).
# The RoI and NMS ops run on torchvision's kernels on the default install
# (mmcv-lite); see docs/hrnet.md "Detection".
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmdet::hrnet/faster-rcnn_hrnetv2p-w32-1x_coco.py
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
from hrformer_mm.config_helpers import hrnetv2p

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = hrnetv2p('w32')
