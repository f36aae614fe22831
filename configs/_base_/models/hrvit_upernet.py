# HRViT + UPerNet (mmseg's UPerHead, 512 channels) and an auxiliary FCN head
# on the 1/16 stream.  Defaults: HRViT-b1, 150 classes (ADE20K).
_base_ = ['./hrformer_upernet.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='hrformer_mm.HRViT',
        arch='b1',
        drop_path_rate=0.1,
        out_indices=(0, 1, 2, 3),
        norm_cfg=_base_.norm_cfg))
