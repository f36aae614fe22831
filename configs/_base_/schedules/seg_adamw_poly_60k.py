# As seg_adamw_poly_150k.py, over 60k iterations.
_base_ = ['./seg_adamw_poly_150k.py']
from hrformer_mm.config_helpers import warmup_poly

param_scheduler = warmup_poly(60000)
train_cfg = dict(max_iters=60000, val_interval=8000)
