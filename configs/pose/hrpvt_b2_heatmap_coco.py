# HRPVT-b2 with a heatmap head instead of SimCC, COCO top-down, 256x192:
# same backbone and HRPM, a 1x1-conv HeatmapHead on the 1/4 map (64x48
# MSRA heatmaps, sigma 2), so the two keypoint representations compare on
# equal terms.  The paper reports SimCC only (76.3 AP val); docs/hrpvt.md.
_base_ = [
    '../_base_/datasets/coco_topdown_256x192.py',
    '../_base_/models/hrpvt_topdown_simcc.py',
    '../_base_/schedules/pose_adam_210e.py',
]
model = dict(
    head=dict(
        _delete_=True,
        type='HeatmapHead',
        in_channels=128,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
