# Mask R-CNN with HRNetV2p-W32 (V2p neck, as the Faster R-CNN config), COCO,
# 1x schedule: mmdet's mask-rcnn_hrnetv2p-w32-1x_coco, 41.2 box AP / 37.1
# mask AP (checkpoint mask_rcnn_hrnetv2p_w32_1x_coco_20200207-b29f616e.pth).
# Everything but the backbone and neck is mmdet's own Mask R-CNN config.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmdet::hrnet/mask-rcnn_hrnetv2p-w32-1x_coco.py
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
from hrformer_mm.config_helpers import hrnetv2p

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = hrnetv2p('w32')
