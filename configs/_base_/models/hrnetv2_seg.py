# HRNetV2 for segmentation: the V2 neck upsamples every stream to 1/4 and
# concatenates them, so the heads see one map.  The fusion upsamples
# bilinearly, as mmseg's HRNet, so mmseg's HRNet checkpoints load and
# compute the same.  Defaults: HRNetV2-W18 (270 concatenated channels).
_base_ = ['./seg_encoder_decoder.py']
model = dict(
    backbone=dict(
        type='hrformer_mm.HRNet',
        arch='w18',
        upsample_cfg=dict(mode='bilinear'),
        norm_cfg=_base_.norm_cfg,
        init_cfg=dict(type='Pretrained',
                      checkpoint='open-mmlab://msra/hrnetv2_w18')),
    neck=dict(type='hrformer_mm.HRNetV2Neck', in_channels=[18, 36, 72, 144],
              mode='v2'))
