# HRFormer-T, COCO top-down, 256x192.  Paper: 70.9 AP (no public pose
# checkpoint or config existed for T; this one follows the S recipe, from
# scratch).
_base_ = ['./hrformer_s_coco.py']
model = dict(
    backbone=dict(_delete_=True, type='hrformer_mm.HRFormer', arch='tiny',
                  drop_path_rate=0.0, out_indices=(0, ),
                  norm_cfg=dict(type='SyncBN', requires_grad=True)),
    head=dict(in_channels=18))
