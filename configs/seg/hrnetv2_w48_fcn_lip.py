# HRNetV2-W48, LIP val (human parsing, 20 classes): 473x473 crops, 150
# epochs of the 30462 training images at batch 40 (4 GPUs x 10), SGD lr
# 7e-3, momentum 0.9, weight decay 5e-4, poly (power 0.9) to 0, plain cross
# entropy: the HRNet segmentation release's
# experiments/lip/seg_hrnet_w48_473x473_sgd_lr7e-3_wd5e-4_bs_40_epoch150.yaml.
# The head is the release's (1x1 conv + BN + ReLU on the 720 concatenated
# channels, then the classifier).  Published (release README): 55.83 mIoU
# with the flip test, which exchanges the left / right part scores
# (`tta_model` of the LIP base, mmseg's tools/test.py --tta).
# No host recipe: mmseg ships no LIP config.
_base_ = [
    '../_base_/datasets/lip_473x473.py',
    '../_base_/models/hrnetv2_fcn.py',
    '../_base_/schedules/seg_sgd_poly_160k.py',
]
from hrformer_mm.config_helpers import hrnetv2_fcn_width

max_iters = 114240  # 150 x 30462 / 40, rounded
model = hrnetv2_fcn_width('w48', _base_.num_classes,
                          data_preprocessor=dict(size=_base_.crop_size))
optim_wrapper = dict(optimizer=dict(lr=7e-3))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 10)
default_hooks = dict(checkpoint=dict(interval=max_iters // 10))
auto_scale_lr = dict(base_batch_size=40)
