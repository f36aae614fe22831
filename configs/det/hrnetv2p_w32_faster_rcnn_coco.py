# Faster R-CNN with HRNetV2p-W32 (the V2p read-out: V2 reduced to 256
# channels, pooled into 5 levels at strides 4-64, a 3x3 conv per level),
# COCO, 1x schedule.  mmdet faster-rcnn_hrnetv2p-w32-1x_coco: 40.2 box AP.
# Everything but the backbone and neck is mmdet's own config;
# norm_cfg=None / act_cfg=None make the neck mmdet's HRFPN exactly (same
# keys, so mmdet's checkpoints load).  RoI heads need compiled mmcv ops:
# training and testing need full mmcv (tools/build_mmcv.sh).
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['hrformer_mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='hrformer_mm.HRNet',
        arch='w32',
        init_cfg=dict(type='Pretrained',
                      checkpoint='open-mmlab://msra/hrnetv2_w32')),
    neck=dict(
        _delete_=True,
        type='hrformer_mm.HRNetV2Neck',
        in_channels=[32, 64, 128, 256],
        mode='v2p',
        out_channels=256,
        num_outs=5,
        norm_cfg=None,
        act_cfg=None,
        init_cfg=dict(type='Caffe2Xavier', layer='Conv2d')))
