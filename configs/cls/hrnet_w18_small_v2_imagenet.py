# HRNet-W18-Small-v2 ImageNet-1K classifier (the HRNet ImageNet release's
# HRNet-W18-C-Small-v2; mmpretrain has no config for it): mmpretrain's
# HRNet-W18 config (hrnet/hrnet-w18_4xb32_in1k.py: HRFuseScales neck,
# global pooling, linear head; 100 epochs SGD, 4 GPUs x 32) with our HRNet
# of that width as the backbone.  The release's and timm's
# (hrnet_w18_small_v2) checkpoints load directly (docs/weights.md).
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmpretrain::hrnet/hrnet-w18_4xb32_in1k.py
_base_ = 'mmpretrain::hrnet/hrnet-w18_4xb32_in1k.py'
from hrformer_mm.config_helpers import cls_hrnet

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = cls_hrnet('w18-small-v2')
