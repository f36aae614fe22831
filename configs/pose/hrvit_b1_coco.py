# HRViT-b1, COCO top-down, 256x192, heatmap head on the 1/4 stream.
# No paper number: the HRViT paper and code report segmentation only; the
# recipe is HRFormer's pose recipe (mmpose's HRFormer-S).
_base_ = ['./hrformer_s_coco.py']
from hrformer_mm.config_helpers import hrvit_backbone

model = dict(backbone=dict(_delete_=True, **hrvit_backbone(out_indices=(0, ))))
