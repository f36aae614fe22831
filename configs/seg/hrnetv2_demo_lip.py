# The parsing demo: HRNetV2-W18-Small trained from scratch on the built-in
# LIP-format people that `tools/generate_demo_data.py --only parsing` writes
# to data/demo/parsing/lip (`bash tools/demo.sh --family parsing`).  The
# LIP config's dataset class, flip with left / right label exchange, test
# resize and IoUMetric; 96x96 instead of 473x473, BN, SGD at a higher rate
# and a short schedule for 2 CPU cores.
_base_ = ['./hrnetv2_w48_fcn_lip.py']
from hrformer_mm.config_helpers import demo_seg_loaders, parsing_pipelines

data_root = 'data/demo/parsing/lip'
crop_size = (96, 96)
arch = 'w18-small'
channels = [18, 36, 72, 144]
norm_cfg = dict(type='BN', requires_grad=True)
max_iters = 300
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch=arch, norm_cfg=norm_cfg, init_cfg=None),
    neck=dict(in_channels=channels),
    decode_head=dict(in_channels=sum(channels), channels=sum(channels),
                     norm_cfg=norm_cfg))
train_pipeline, test_pipeline = parsing_pipelines(
    crop_size, _base_.flip_pairs, ratio_range=(0.75, 1.25))
train_dataloader, val_dataloader, test_dataloader = demo_seg_loaders(
    data_root, train_pipeline, test_pipeline)
# the LIP config's flip test (--tta), at this size
tta_pipeline = [
    _base_.tta_pipeline[0],
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale=crop_size, keep_ratio=False)],
        *_base_.tta_pipeline[1]['transforms'][1:]]),
]

optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0,
         end=20),
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=20, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=100)
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=100, max_keep_ckpts=2),
    visualization=dict(interval=1))
