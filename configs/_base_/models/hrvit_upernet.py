# HRViT + UPerNet (mmseg's UPerHead, 512 channels) and an auxiliary FCN head
# on the 1/16 stream: hrformer_upernet.py's heads on the HRViT backbone.
# Defaults: HRViT-b1.
_base_ = ['./hrformer_upernet.py']
from hrformer_mm.config_helpers import hrvit_backbone

model = dict(backbone=dict(_delete_=True, **hrvit_backbone()))
