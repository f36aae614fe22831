# HRNet-W64 ImageNet-1K classifier: mmpretrain's own config
# (hrnet/hrnet-w64_4xb32_in1k.py: HRFuseScales neck, global pooling,
# linear head; 100 epochs SGD, 4 GPUs x 32) with our HRNet as the backbone.
# Its checkpoint (hrnet-w64_3rdparty_8xb32_in1k) loads unchanged; the HRNet
# release's and timm's (hrnet_w64) load too (docs/weights.md).
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmpretrain::hrnet/hrnet-w64_4xb32_in1k.py
_base_ = 'mmpretrain::hrnet/hrnet-w64_4xb32_in1k.py'
custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = dict(backbone=dict(_delete_=True, type='hrformer_mm.HRNet',
                           arch='w64'))
