# Top-down heatmap pose model: HRFormer backbone, 1x1 conv head on the
# 1/4-resolution stream (topdown_heatmap.py).  Defaults: HRFormer-S.
_base_ = ['./topdown_heatmap.py']
model = dict(
    backbone=dict(
        type='hrformer_mm.HRFormer',
        arch='small',
        drop_path_rate=0.1,
        out_indices=(0, ),
        norm_cfg=_base_.norm_cfg))
