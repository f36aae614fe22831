# HRFormer-B (HRT-B) ImageNet-1K classifier: HRFormer-T's recipe
# (cls/configs/hrt/hrt_base.yaml: drop path 0.2).  Paper: 82.8 top-1 (96.3 top-5), 50.3M params, 13.71 GFLOPs.
_base_ = './hrformer_t_imagenet.py'
model = dict(
    backbone=dict(arch='base', drop_path_rate=0.2),
    neck=dict(in_channels=(78, 156, 312, 624)))
