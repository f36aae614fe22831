# HRNetV2-W18 + FCN, Cityscapes val: 512x1024 crops, 160k iterations, batch
# 8.  mmseg fcn_hr18_4xb2-160k_cityscapes-512x1024: 78.80 mIoU (80.74
# ms+flip).  The V2 neck concatenates the streams (270 channels); the FCN
# head is a 1x1 conv + BN + ReLU on them and the classifier.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmseg::hrnet/fcn_hr18_4xb2-160k_cityscapes-512x1024.py
_base_ = [
    '../_base_/datasets/cityscapes_512x1024.py',
    '../_base_/models/hrnetv2_fcn.py',
    '../_base_/schedules/seg_sgd_poly_160k.py',
]
model = dict(data_preprocessor=dict(size=_base_.crop_size),
             decode_head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(batch_size=2)
