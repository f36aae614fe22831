# HRPVT top-down pose model: mmpose's PVT v2 (b2 by default: embed_dims 64,
# num_layers [3, 4, 6, 3], heads [1, 2, 5, 8], sr_ratios [8, 4, 2, 1]), the
# HRPM neck (HRNetV2 V2 representation at 1/4 + pyramid of dilated
# depthwise convs), a SimCC head without deconvolutions in place of
# topdown_heatmap.py's heatmap head.  Each config sets
# head.input_size / in_featuremap_size / decoder from its codec.
_base_ = ['./topdown_heatmap.py']
model = dict(
    backbone=dict(
        type='PyramidVisionTransformerV2',
        embed_dims=64,
        num_layers=[3, 4, 6, 3],
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/whai362/PVT/'
            'releases/download/v2/pvt_v2_b2.pth')),
    neck=dict(
        type='hrformer_mm.HRPMNeck',
        in_channels=[64, 128, 320, 512],
        out_channels=128,
        dilations=(1, 2, 4, 8),
        insertion='stage',
        norm_cfg=_base_.norm_cfg),
    head=dict(
        _delete_=True,
        type='SimCCHead',
        in_channels=128,
        out_channels=17,
        deconv_out_channels=None,
        simcc_split_ratio=2.0,
        loss=dict(type='KLDiscretLoss', use_target_weight=True)),
    test_cfg=dict(_delete_=True, flip_test=True))
