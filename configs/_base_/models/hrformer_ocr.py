# HRFormer + OCR (HRFormer paper, Sec. 4.3) exactly as the reference
# segmentation release computes it (seg/lib/models/backbones/hrt and
# seg/lib/models/nets/hrt.py, behind every published HRFormer mIoU):
# - the backbone fuses streams by nearest-neighbour upsampling with a fixed
#   2**k factor, then an align_corners=True resize where sizes differ
#   (the pose release and mmpose upsample bilinearly);
# - all four streams resized to 1/4 (bilinear, align_corners=True) and
#   concatenated; an auxiliary FCN head (3x3 conv to 512) gives the soft
#   object regions; the OCR head (3x3 conv to 512 channels, object context
#   with 256 key channels, dropout 0.05) predicts, trained with OHEM
#   cross-entropy.  See hrformer_mm.config_helpers.ocr_heads.
# Reference segmentation checkpoints load into these configs directly (the
# backbone reads their keys at load time, docs/weights.md).
# Defaults: HRFormer-S, 150 classes (ADE20K).  mmengine replaces lists on
# inheritance, so configs that change the width or the classes rebuild the
# list with ocr_heads.
# (An empty _base_: mmengine takes a config that imports a module and has no
# _base_ for a "lazy import" config, which cannot be inherited from.)
_base_ = []
from hrformer_mm.config_helpers import ocr_heads


norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='CascadeEncoderDecoder',
    data_preprocessor=data_preprocessor,
    num_stages=2,
    pretrained=None,
    backbone=dict(
        type='hrformer_mm.HRFormer',
        arch='small',
        drop_path_rate=0.1,
        out_indices=(0, 1, 2, 3),
        upsample_cfg=dict(mode='nearest', by_factor=True, align_corners=True),
        norm_cfg=norm_cfg,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrformer_small-09516375_20220226.pth')),
    decode_head=ocr_heads([32, 64, 128, 256], 150, norm_cfg),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
