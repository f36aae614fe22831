# HRNet-W32, COCO top-down, 256x192, V1 read-out.  Paper (Sun et al. 2019,
# val2017): 74.4 AP; mmpose td-hm_hrnet-w32_8xb64-210e_coco-256x192: 74.6.
# mmpose's recipe with this project's HRNet: the V1 read-out is the highest-
# resolution stream (the last module fuses only into it, mmpose's
# multiscale_output=False), so mmpose's HRNet checkpoints load unchanged.
_base_ = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')

custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True,
        type='hrformer_mm.HRNet',
        arch='w32',
        out_indices=(0, ),
        norm_cfg=norm_cfg,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrnet_w32-36af842e.pth')),
    neck=dict(type='hrformer_mm.HRNetV2Neck', in_channels=[32], mode='v1'))
# resume reproduces an uninterrupted run exactly
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='hrformer_mm.RNGStateHook')]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
