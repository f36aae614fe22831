# COCO person keypoints, top-down, 384x288 input / 96x72 heatmaps, sigma 3.
_base_ = ['./coco_topdown_256x192.py']
from hrformer_mm.config_helpers import topdown_pipelines

codec = dict(type='MSRAHeatmap', input_size=(288, 384),
             heatmap_size=(72, 96), sigma=3)
train_pipeline, val_pipeline = topdown_pipelines(codec)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
