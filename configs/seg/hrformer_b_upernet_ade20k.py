# HRFormer-B + UPerNet, ADE20K: hrformer_s_upernet_ade20k.py's recipe.
# The HRFormer paper reports OCR only.
_base_ = ['./hrformer_s_upernet_ade20k.py']
from hrformer_mm.config_helpers import pretrained_hrformer

model = dict(
    backbone=pretrained_hrformer('base', 0.2),
    decode_head=dict(in_channels=[78, 156, 312, 624]),
    auxiliary_head=dict(in_channels=312))
