# HRFormer pose recipe: AdamW 5e-4, wd 0.01 (none on the relative position
# bias tables), 210 epochs, x0.1 at 170 and 200, 500-iteration warm-up.
train_cfg = dict(by_epoch=True, max_epochs=210, val_interval=10)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999),
                   weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={'relative_position_bias_table': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001,
         by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=210, milestones=[170, 200],
         gamma=0.1, by_epoch=True)
]
# 8 GPUs x 32 images; --auto-scale-lr rescales for other batch sizes.
auto_scale_lr = dict(base_batch_size=256)
