# Cascade R-CNN with HRNetV2p-W40, COCO, 20e: mmdet's cascade-
# rcnn_hrnetv2p-w40-20e_coco, 43.8 box AP (checkpoint
# cascade_rcnn_hrnetv2p_w40_20e_coco_20200512_161112-75e47b04.pth). Everything
# but the backbone and neck is mmdet's config; the backbone and neck are
# swapped as in hrnetv2p_w32_faster_rcnn_coco.py (the neck equals mmdet's
# HRFPN, so mmdet's checkpoints load).
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmdet::hrnet/cascade-rcnn_hrnetv2p-w40-20e_coco.py
_base_ = 'mmdet::hrnet/cascade-rcnn_hrnetv2p-w40-20e_coco.py'
from hrformer_mm.config_helpers import hrnetv2p

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = hrnetv2p('w40')
