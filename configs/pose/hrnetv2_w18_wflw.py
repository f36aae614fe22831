# HRNetV2-W18 facial landmarks, WFLW (98 points), 256x256.  Paper (HRNetV2
# TPAMI, WFLW test): 4.60 NME; mmpose td-hm_hrnetv2-w18_8xb64-60e_wflw-256x256:
# 4.06.  The V2 neck concatenates the streams and mixes them with a 1x1 conv
# + BN + ReLU to 270 channels (what mmpose's head does with
# conv_out_channels=(270,)); the head is a 1x1 conv to 98 heatmaps.
# Host recipe (optimizer, schedule, pipelines, batch size; checked by
# tests/test_configs/test_host_configs.py):
# mmpose::face_2d_keypoint/topdown_heatmap/wflw/td-hm_hrnetv2-w18_8xb64-60e_wflw-256x256.py
_base_ = [
    '../_base_/datasets/wflw_256x256.py',
    '../_base_/models/topdown_heatmap.py',
    '../_base_/schedules/pose_adam_210e.py',
]
from hrformer_mm.config_helpers import hrnetv2, warmup_multistep

model = dict(
    **hrnetv2('w18', _base_.norm_cfg,
              neck=dict(out_channels=270, norm_cfg=_base_.norm_cfg)),
    head=dict(in_channels=270, out_channels=98, decoder=_base_.codec))
# mmpose's recipe: pose_adam_210e.py's with Adam 2e-3, 60 epochs, x0.1 at
# 40 and 55, 8 x 64 images
train_cfg = dict(max_epochs=60, val_interval=1)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = warmup_multistep(60, [40, 55])
default_hooks = dict(checkpoint=dict(save_best='NME', rule='less',
                                     interval=1))
