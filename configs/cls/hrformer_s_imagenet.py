# HRFormer-S (HRT-S) ImageNet-1K classifier: HRFormer-T's recipe
# (cls/configs/hrt/hrt_small.yaml: drop path 0.0).  Paper: 81.2 top-1 (95.6 top-5), 13.5M params, 3.56 GFLOPs.
_base_ = './hrformer_t_imagenet.py'
model = dict(
    backbone=dict(arch='small', drop_path_rate=0.0),
    neck=dict(in_channels=(32, 64, 128, 256)))
