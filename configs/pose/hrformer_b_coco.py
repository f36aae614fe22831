# HRFormer-B, COCO top-down, 256x192.  Paper: 75.6 AP; mmpose retrain 75.4.
_base_ = ['./hrformer_s_coco.py']
from hrformer_mm.config_helpers import pretrained_hrformer

model = dict(backbone=pretrained_hrformer('base', 0.2),
             head=dict(in_channels=78))
