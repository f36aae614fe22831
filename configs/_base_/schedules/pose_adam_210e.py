# HRNet pose recipe (Sun et al. 2019, mmpose): Adam 5e-4, 210 epochs, x0.1
# at 170 and 200, 500-iteration warm-up, 8 GPUs x 64 images (x 32 for W48:
# the configs keep the learning rate, as mmpose does); with the pose
# runtime (hooks, logging).
_base_ = ['../pose_runtime.py']
from hrformer_mm.config_helpers import warmup_multistep

train_cfg = dict(by_epoch=True, max_epochs=210, val_interval=10)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = warmup_multistep(210, [170, 200])
auto_scale_lr = dict(base_batch_size=512)
