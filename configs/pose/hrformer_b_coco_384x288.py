# HRFormer-B, COCO top-down, 384x288.  Paper: 77.2 AP (drop path 0.3, as
# here); mmpose retrained with 0.2 and reports 77.4.
_base_ = ['./hrformer_s_coco_384x288.py']
from hrformer_mm.config_helpers import pretrained_hrformer

model = dict(backbone=pretrained_hrformer('base', 0.3),
             head=dict(in_channels=78))
