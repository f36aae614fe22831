# HRViT-b1, COCO top-down, 256x192, heatmap head on the 1/4 stream.
# No paper number: the HRViT paper and code report segmentation only; the
# recipe is HRFormer's pose recipe.
_base_ = [
    '../_base_/pose_runtime.py',
    '../_base_/datasets/coco_topdown_256x192.py',
    '../_base_/models/hrformer_topdown_heatmap.py',
    '../_base_/schedules/pose_adamw_210e.py',
]
model = dict(
    backbone=dict(
        _delete_=True,
        type='hrformer_mm.HRViT',
        arch='b1',
        drop_path_rate=0.1,
        out_indices=(0, ),
        norm_cfg=_base_.norm_cfg),
    head=dict(in_channels=32, decoder=_base_.codec))
