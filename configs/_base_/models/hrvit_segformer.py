# HRViT + SegFormer all-MLP head (plain linear projections, as in the HRViT
# release).  Defaults: HRViT-b1, 256 head channels; each config sets the
# head's num_classes from its dataset.
_base_ = ['./seg_encoder_decoder.py']
from hrformer_mm.config_helpers import hrvit_backbone, segformer_mlp_head

model = dict(backbone=hrvit_backbone(),
             decode_head=segformer_mlp_head(_base_.norm_cfg))
