# COCO person keypoints, top-down, 256x192 input, SimCC labels: 1-D x / y
# classifications at 2x the input resolution (bins of 0.5 px), sigma 6.0
# as mmpose's simcc_res50_8xb64-210e_coco-256x192.
_base_ = ['./coco_topdown_256x192.py']
from hrformer_mm.config_helpers import topdown_pipelines

simcc_codec = dict(type='SimCCLabel', input_size=(192, 256), sigma=6.0,
                   simcc_split_ratio=2.0)
# replaces the heatmap base's codec (no heatmap_size); the pipelines name
# simcc_codec because a key's `_delete_` is only dropped when merged
codec = dict(_delete_=True, **simcc_codec)
train_pipeline, val_pipeline = topdown_pipelines(simcc_codec)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
