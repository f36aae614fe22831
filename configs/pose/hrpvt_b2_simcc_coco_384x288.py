# HRPVT-b2, COCO top-down, 384x288, SimCC.  Paper (docs/hrpvt.md): the
# reductions are stated against HRNet-W48 (63.6M, 32.9 GFLOPs at 384x288);
# its headline 76.3 val / 75.5 test-dev AP.  docs/hrpvt.md.
_base_ = [
    '../_base_/datasets/coco_topdown_simcc_384x288.py',
    '../_base_/models/hrpvt_topdown_simcc.py',
    '../_base_/schedules/pose_adam_210e.py',
]
from hrformer_mm.config_helpers import simcc_sizes

model = dict(head=simcc_sizes(_base_.codec))
