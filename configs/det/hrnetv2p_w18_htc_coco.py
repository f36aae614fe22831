# HTC (Hybrid Task Cascade) with HRNetV2p-W18, COCO, 20e: mmdet's
# htc_hrnetv2p-w18_20e_coco, 42.8 box AP / 37.9 mask AP (checkpoint
# htc_hrnetv2p_w18_20e_coco_20200210-b266988c.pth). Everything but the
# backbone and neck is mmdet's config; the backbone and neck are swapped as in
# hrnetv2p_w32_faster_rcnn_coco.py (the neck equals mmdet's HRFPN, so mmdet's
# checkpoints load). Training needs COCO-stuff's stuffthingmaps for the
# semantic branch, as mmdet's HTC does.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmdet::hrnet/htc_hrnetv2p-w18_20e_coco.py
_base_ = 'mmdet::hrnet/htc_hrnetv2p-w18_20e_coco.py'
from hrformer_mm.config_helpers import hrnetv2p

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = hrnetv2p('w18')
