# HRFormer segmentation recipe: AdamW 1e-4, wd 0.01 (none on the relative
# position bias tables), linear warm-up then poly decay, 150k iterations;
# with the segmentation runtime (hooks: checkpoint every 16k iterations).
_base_ = ['../seg_runtime.py']
from hrformer_mm.config_helpers import warmup_poly

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                   weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={'relative_position_bias_table': dict(decay_mult=0.)}))
param_scheduler = warmup_poly(150000)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=150000,
                 val_interval=16000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# 4 GPUs x 2 images
auto_scale_lr = dict(base_batch_size=8)
