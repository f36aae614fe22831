# hrpvt_demo_simcc_coco.py with a heatmap head instead of SimCC: the same
# PVT v2 + HRPM, data, input size and budget; a 1x1-conv HeatmapHead on the
# 1/4 map (32x24 heatmaps, DARK encoding and decoding as
# hrformer_demo_coco.py), so the demo compares the two keypoint
# representations on small and medium people (`bash tools/demo.sh --family
# hrpvt`).
_base_ = ['./hrpvt_demo_simcc_coco.py']
from hrformer_mm.config_helpers import coco_head, topdown_pipelines

heatmap_codec = dict(type='MSRAHeatmap', input_size=(96, 128),
                     heatmap_size=(24, 32), sigma=2, unbiased=True,
                     blur_kernel_size=7)
# replaces the SimCC demo's codec; the model and pipeline name heatmap_codec
# because a key's `_delete_` is only dropped when merged
codec = dict(_delete_=True, **heatmap_codec)
model = dict(
    head=coco_head('HeatmapHead', 64,
                   loss=dict(type='KeypointMSELoss', use_target_weight=True),
                   decoder=heatmap_codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=False))

# the SimCC demo's training pipeline, encoding heatmaps
# the SimCC demo's training pipeline, encoding heatmaps
train_pipeline = topdown_pipelines(heatmap_codec, half_body=False,
                                   scale_factor=(0.75, 1.25),
                                   rotate_factor=30.0)[0]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
