# mmseg's encoder-decoder segmentor (ImageNet mean / std, RGB, labels padded
# with 255, whole-image testing), SyncBN: what every segmentation model base
# shares; each adds its backbone and heads.  The head's class count comes
# from the dataset (num_classes of configs/_base_/datasets/*), set by each
# config.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
