# As seg_adamw_poly_150k.py, over 80k iterations.
_base_ = ['./seg_adamw_poly_150k.py']
from hrformer_mm.config_helpers import warmup_poly

param_scheduler = warmup_poly(80000)
train_cfg = dict(max_iters=80000, val_interval=8000)
