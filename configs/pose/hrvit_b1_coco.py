# HRViT-b1, COCO top-down, 256x192, heatmap head on the 1/4 stream.
# No paper number: the HRViT paper and code report segmentation only; the
# recipe is HRFormer's pose recipe.
_base_ = [
    '../_base_/datasets/coco_topdown_256x192.py',
    '../_base_/models/hrformer_topdown_heatmap.py',
    '../_base_/schedules/pose_adamw_210e.py',
]
from hrformer_mm.config_helpers import hrvit_backbone

model = dict(
    backbone=dict(_delete_=True, **hrvit_backbone(out_indices=(0, ))),
    head=dict(decoder=_base_.codec))
