# HRNetV2-W48 + FCN, PASCAL-Context 59 val: mmseg's recipe, 480x480 crops,
# 80k iterations, batch 16, SGD lr 4e-3, weight decay 1e-4, sliding-window
# test (480 / stride 320).  mmseg fcn_hr48_4xb4-80k_pascal-context-59-480x480:
# 51.12 mIoU (53.56 ms+flip); the paper (HRNet release, 520x520 crops,
# ms+flip): 54.1.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmseg::hrnet/fcn_hr48_4xb4-80k_pascal-context-59-480x480.py
_base_ = [
    '../_base_/datasets/pascal_context59_480x480.py',
    '../_base_/models/hrnetv2_fcn.py',
    '../_base_/schedules/seg_sgd_poly_160k.py',
]
from hrformer_mm.config_helpers import hrnetv2_fcn_width

model = hrnetv2_fcn_width('w48', _base_.num_classes,
                          data_preprocessor=dict(size=_base_.crop_size),
                          test_cfg=dict(mode='slide',
                                        crop_size=_base_.crop_size,
                                        stride=(320, 320)))
optim_wrapper = dict(optimizer=dict(lr=4e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=80000,
         by_epoch=False)
]
train_cfg = dict(max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
