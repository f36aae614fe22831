# The public HRViT recipe (README's train.sh command, pretrain.py defaults;
# timm's scheduler and optimizer): AdamW lr 1e-3 at 32 x 32 = 1024 images,
# weight decay 0.05 except 1-D parameters and biases, 20 warm-up epochs
# from 1e-6, cosine to 1e-5 at epoch 300, then timm's 10 cool-down epochs
# at 1e-5 (310 in all), gradient norm clipped at 1.
_base_ = 'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py'
optim_wrapper = dict(
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0,
                       bias_decay_mult=0.0, flat_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=20,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=20,
         end=300, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=310, val_interval=1)
