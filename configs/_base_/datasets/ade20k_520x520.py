# ADE20K (150 classes), 520x520 training crops as in the HRFormer paper;
# otherwise mmseg's recipe (ade20k_512x512.py).
_base_ = './ade20k_512x512.py'
from hrformer_mm.config_helpers import seg_pipelines

crop_size = (520, 520)
train_pipeline, test_pipeline = seg_pipelines(
    (2048, 520), crop_size, reduce_zero_label=True)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
