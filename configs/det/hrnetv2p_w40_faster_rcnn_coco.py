# Faster R-CNN with HRNetV2p-W40, COCO, 1x: mmdet's faster-
# rcnn_hrnetv2p-w40-1x_coco, 41.2 box AP (checkpoint
# faster_rcnn_hrnetv2p_w40_1x_coco_20200210-95c1f5ce.pth). Everything but the
# backbone and neck is mmdet's config; the backbone and neck are swapped as in
# hrnetv2p_w32_faster_rcnn_coco.py (the neck equals mmdet's HRFPN, so mmdet's
# checkpoints load).
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmdet::hrnet/faster-rcnn_hrnetv2p-w40-1x_coco.py
_base_ = 'mmdet::hrnet/faster-rcnn_hrnetv2p-w40-1x_coco.py'
from hrformer_mm.config_helpers import hrnetv2p

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = hrnetv2p('w40')
