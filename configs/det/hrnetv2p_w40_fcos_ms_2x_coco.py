# FCOS (GN head) with HRNetV2p-W40, COCO, 2x, multi-scale 640-800 training:
# mmdet's fcos_hrnetv2p-w40-gn-head_ms-640-800-4xb4-2x_coco, 42.7 box AP
# (checkpoint
# fcos_hrnetv2p_w40_gn-head_mstrain_640-800_4x4_2x_coco_20201212_124752-f22d2ce5.pth).
# Everything but the backbone and neck is mmdet's config; the backbone and
# neck are swapped as in hrnetv2p_w32_faster_rcnn_coco.py (the neck equals
# mmdet's HRFPN, so mmdet's checkpoints load). FCOS reads the V2p pyramid
# through stride-2 3x3 convs (mmdet's HRFPN stride=2): levels at strides
# 8-128, the FCOS head's.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmdet::hrnet/fcos_hrnetv2p-w40-gn-head_ms-640-800-4xb4-2x_coco.py
_base_ = 'mmdet::hrnet/fcos_hrnetv2p-w40-gn-head_ms-640-800-4xb4-2x_coco.py'
from hrformer_mm.config_helpers import hrnetv2p

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = hrnetv2p('w40')
model['neck']['stride'] = 2
