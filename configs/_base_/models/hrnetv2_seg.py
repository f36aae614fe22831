# HRNetV2 for segmentation: the V2 neck upsamples every stream to 1/4 and
# concatenates them, so the heads see one map.  The fusion upsamples
# bilinearly, as mmseg's HRNet, so mmseg's HRNet checkpoints load and
# compute the same.  Defaults: HRNetV2-W18 (270 concatenated channels).
_base_ = ['./seg_encoder_decoder.py']
from hrformer_mm.config_helpers import hrnetv2

model = hrnetv2('w18', _base_.norm_cfg)
