# The HRNet-family demo (bash tools/demo.sh --family hrnet): a small HRNetV2
# trained from scratch on the synthetic WFLW-format faces that
# `tools/generate_demo_data.py` writes to data/demo/wflw.  Same dataset class
# (WFLWDataset), pipelines, V2 neck, heatmap head and NME metric as
# hrnetv2_w18_wflw.py; a narrow 4-stream HRNet (one module per stage), 96x96
# input with unbiased (DARK) heatmaps, BN, a short schedule for 2 CPU cores.
# Measured (docs/hrnet.md): test NME 1.459 untrained, 0.0332 after training.
_base_ = ['./hrnetv2_w18_wflw.py']
from hrformer_mm.config_helpers import demo_schedule, topdown_pipelines

codec = dict(type='MSRAHeatmap', input_size=(96, 96), heatmap_size=(24, 24),
             sigma=1.5, unbiased=True, blur_kernel_size=5)
data_root = 'data/demo/wflw/'
channels = [16, 32, 64, 128]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        # _delete_: a dict replaces the base's arch name
        arch=dict(_delete_=True, channels=channels, num_modules=(1, 1, 1),
                  num_blocks=2,
                  stage1_blocks=1, stage1_channels=32),
        norm_cfg=norm_cfg, init_cfg=None),
    neck=dict(in_channels=channels, out_channels=96, norm_cfg=norm_cfg),
    head=dict(in_channels=96, decoder=codec))

train_pipeline, val_pipeline = topdown_pipelines(
    codec, half_body=False, shift_prob=0, rotate_factor=30,
    scale_factor=(0.8, 1.2))
train_dataloader = dict(
    batch_size=16, num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=1,
    dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader

(train_cfg, optim_wrapper, param_scheduler, auto_scale_lr,
 default_hooks) = demo_schedule(max_epochs=12, warmup_iters=50, interval=4)
