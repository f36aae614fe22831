# COCO person keypoints, top-down, 384x288 input, SimCC labels (sigma 6.0,
# split ratio 2.0, as mmpose's simcc_res50_8xb32-140e_coco-384x288).
_base_ = ['./coco_topdown_simcc_256x192.py']
from hrformer_mm.config_helpers import topdown_pipelines

codec = dict(type='SimCCLabel', input_size=(288, 384), sigma=6.0,
             simcc_split_ratio=2.0)
simcc_codec = codec
train_pipeline, val_pipeline = topdown_pipelines(codec)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
