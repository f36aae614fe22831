# The built-in demo: HRFormer-T trained from scratch on the synthetic
# COCO-format people that `tools/generate_demo_data.py` writes to
# data/demo/coco.  Same dataset class, pipelines and CocoMetric as the COCO
# configs; smaller input, BN instead of SyncBN, a short schedule for 2 CPU
# cores (3 epochs, AP 0.511 in 348 s: 5 gave AP 0.687 but took 609 s of a
# 1365 s demo on the development VM's slow days, over the 15-minute aim).
_base_ = ['./hrformer_t_coco.py']
from hrformer_mm.config_helpers import demo_coco, demo_schedule

# Unbiased (DARK) encoding and decoding: sub-pixel accuracy matters on
# 32x24 heatmaps.
codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32),
             sigma=2, unbiased=True, blur_kernel_size=7)
data_root = 'data/demo/coco/'
model = dict(
    backbone=dict(norm_cfg=dict(type='BN', requires_grad=True)),
    head=dict(decoder=codec))

(train_pipeline, val_pipeline, train_dataloader, val_dataloader,
 test_dataloader, val_evaluator, test_evaluator) = demo_coco(codec, data_root)
# a short warm-up: the cosine decay runs from the first iteration and the
# two multiply (100 iterations, 1.8 of the 3 epochs, held the rate under half
# its peak throughout: AP 0.395)
(train_cfg, optim_wrapper, param_scheduler, auto_scale_lr,
 default_hooks) = demo_schedule(max_epochs=3, warmup_iters=30)
