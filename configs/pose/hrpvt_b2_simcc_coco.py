# HRPVT-b2 (PVT v2-b2 + HRPM + SimCC), COCO top-down, 256x192.  Paper
# (no public code, docs/hrpvt.md): COCO val2017 76.3 AP, test-dev 75.5 AP,
# best AP(M); 60% fewer params and 62% fewer GFLOPs than HRNet-W48 (63.6M,
# 14.6 GFLOPs at 256x192).  The HRPM design is this project's reading:
# docs/hrpvt.md.
_base_ = [
    '../_base_/datasets/coco_topdown_simcc_256x192.py',
    '../_base_/models/hrpvt_topdown_simcc.py',
    '../_base_/schedules/pose_adam_210e.py',
]
from hrformer_mm.config_helpers import simcc_sizes

model = dict(head=simcc_sizes(_base_.codec))
