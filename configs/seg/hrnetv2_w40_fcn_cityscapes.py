# HRNetV2-W40, Cityscapes val: the paper's recipe, 512x1024 crops, 120k
# iterations, batch 12 (4 GPUs x 3), SGD lr 0.01, weight decay 5e-4, poly;
# single-scale whole-image test.  The head is the W18 config's (1x1 conv +
# BN + ReLU on the 600 concatenated channels, then the classifier).  mmseg
# ships no W40 row; published (paper, Cityscapes val table): 80.2 mIoU.
# No host recipe: mmseg ships no W40 config.
_base_ = ['./hrnetv2_w18_fcn_cityscapes.py']
from hrformer_mm.config_helpers import hrnetv2_fcn_width

model = hrnetv2_fcn_width('w40')
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=120000,
         by_epoch=False)
]
train_cfg = dict(max_iters=120000, val_interval=12000)
default_hooks = dict(checkpoint=dict(interval=12000))
train_dataloader = dict(batch_size=3)
