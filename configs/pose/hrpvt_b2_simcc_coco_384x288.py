# HRPVT-b2, COCO top-down, 384x288, SimCC (sigma 6.0, split ratio 2.0, as
# mmpose's simcc_res50_8xb32-140e_coco-384x288).  Paper (docs/hrpvt.md): the
# reductions are stated against HRNet-W48 (63.6M, 32.9 GFLOPs at 384x288);
# its headline 76.3 val / 75.5 test-dev AP.
_base_ = ['./hrpvt_b2_simcc_coco.py']
from hrformer_mm.config_helpers import simcc_sizes, topdown_pipelines

codec = dict(type='SimCCLabel', input_size=(288, 384), sigma=6.0,
             simcc_split_ratio=2.0)
simcc_codec = codec
train_pipeline, val_pipeline = topdown_pipelines(codec)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
model = dict(head=simcc_sizes(codec))
