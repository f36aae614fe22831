# HRFormer pose recipe: pose_adam_210e.py's schedule with AdamW 5e-4, wd
# 0.01 (none on the relative position bias tables).
_base_ = ['./pose_adam_210e.py']
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999),
                   weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={'relative_position_bias_table': dict(decay_mult=0.)}))
# 8 GPUs x 32 images; --auto-scale-lr rescales for other batch sizes.
auto_scale_lr = dict(base_batch_size=256)
