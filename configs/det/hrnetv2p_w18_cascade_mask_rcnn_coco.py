# Cascade Mask R-CNN with HRNetV2p-W18, COCO, 20e: mmdet's cascade-mask-
# rcnn_hrnetv2p-w18_20e_coco, 41.6 box AP / 36.4 mask AP (checkpoint
# cascade_mask_rcnn_hrnetv2p_w18_20e_coco_20200210-b543cd2b.pth). Everything
# but the backbone and neck is mmdet's config; the backbone and neck are
# swapped as in hrnetv2p_w32_faster_rcnn_coco.py (the neck equals mmdet's
# HRFPN, so mmdet's checkpoints load).
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmdet::hrnet/cascade-mask-rcnn_hrnetv2p-w18_20e_coco.py
_base_ = 'mmdet::hrnet/cascade-mask-rcnn_hrnetv2p-w18_20e_coco.py'
from hrformer_mm.config_helpers import hrnetv2p

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = hrnetv2p('w18')
