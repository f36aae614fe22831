# Top-down heatmap pose model: HRNet backbone, the V1 read-out (the
# highest-resolution stream; the last module fuses only into it, mmpose's
# multiscale_output=False, so mmpose's HRNet checkpoints load unchanged),
# 1x1 conv head (topdown_heatmap.py).  Defaults: HRNet-W32, 17 COCO
# keypoints.
_base_ = ['./topdown_heatmap.py']
model = dict(
    backbone=dict(
        type='hrformer_mm.HRNet',
        arch='w32',
        out_indices=(0, ),
        norm_cfg=_base_.norm_cfg,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrnet_w32-36af842e.pth')),
    neck=dict(type='hrformer_mm.HRNetV2Neck', in_channels=[32], mode='v1'))
