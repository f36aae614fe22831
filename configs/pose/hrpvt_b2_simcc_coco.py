# HRPVT-b2 (PVT v2-b2 + HRPM + SimCC), COCO top-down, 256x192.  Paper
# (no public code, docs/hrpvt.md): COCO val2017 76.3 AP, test-dev 75.5 AP,
# best AP(M); 60% fewer params and 62% fewer GFLOPs than HRNet-W48 (63.6M,
# 14.6 GFLOPs at 256x192).  The HRPM design is this project's reading:
# docs/hrpvt.md.  hrpvt_b2_heatmap_coco.py's recipe and model with SimCC
# labels (1-D x / y classifications at 2x the input resolution, bins of
# 0.5 px, sigma 6.0 as mmpose's simcc_res50_8xb64-210e_coco-256x192) and a
# SimCC head without deconvolutions.
_base_ = ['./hrpvt_b2_heatmap_coco.py']
from hrformer_mm.config_helpers import (coco_head, simcc_sizes,
                                        topdown_pipelines)

simcc_codec = dict(type='SimCCLabel', input_size=(192, 256), sigma=6.0,
                   simcc_split_ratio=2.0)
# replaces the heatmap codec (no heatmap_size); the rest names simcc_codec
# because a key's `_delete_` is only dropped when merged
codec = dict(_delete_=True, **simcc_codec)
train_pipeline, val_pipeline = topdown_pipelines(simcc_codec)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
model = dict(
    head=coco_head('SimCCHead', 128, simcc_split_ratio=2.0,
                   loss=dict(type='KLDiscretLoss', use_target_weight=True),
                   **simcc_sizes(simcc_codec)),
    test_cfg=dict(_delete_=True, flip_test=True))
