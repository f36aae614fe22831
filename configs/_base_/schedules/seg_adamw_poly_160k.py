# HRViT / SegFormer segmentation recipe: AdamW 6e-5, wd 0.01 (none on
# norms), head lr x10, 1500-iteration linear warm-up then poly decay, 160k
# iterations; otherwise seg_adamw_poly_150k.py.
_base_ = ['./seg_adamw_poly_150k.py']
from hrformer_mm.config_helpers import warmup_poly

optim_wrapper = dict(
    optimizer=dict(lr=6e-5),
    paramwise_cfg=dict(_delete_=True, custom_keys={
        'norm': dict(decay_mult=0.),
        'head': dict(lr_mult=10.)
    }))
param_scheduler = warmup_poly(160000)
train_cfg = dict(max_iters=160000)
# 8 GPUs x 2 images
auto_scale_lr = dict(base_batch_size=16)
