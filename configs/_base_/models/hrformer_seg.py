# The HRFormer backbone of every HRFormer segmentation model base, exactly as
# the reference segmentation release computes it (seg/lib/models/backbones/
# hrt, behind every published HRFormer mIoU): the streams are fused by
# nearest-neighbour upsampling with a fixed 2**k factor, then an
# align_corners=True resize where sizes differ (the pose release and mmpose
# upsample bilinearly).  Reference segmentation checkpoints load into these
# configs directly (the backbone reads their keys at load time,
# docs/weights.md).  Defaults: HRFormer-S, ImageNet-pretrained.
_base_ = ['./seg_encoder_decoder.py']
model = dict(
    backbone=dict(
        type='hrformer_mm.HRFormer',
        arch='small',
        drop_path_rate=0.1,
        out_indices=(0, 1, 2, 3),
        upsample_cfg=dict(mode='nearest', by_factor=True, align_corners=True),
        norm_cfg=_base_.norm_cfg,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrformer_small-09516375_20220226.pth')))
