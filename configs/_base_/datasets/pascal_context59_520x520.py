# PASCAL-Context, 59 classes (background ignored): mmseg's recipe with
# 520x520 training crops (mmseg's are 480x480).
_base_ = 'mmseg::_base_/datasets/pascal_context_59.py'
from hrformer_mm.config_helpers import seg_pipelines

crop_size = (520, 520)
num_classes = 59
train_pipeline, test_pipeline = seg_pipelines(
    _base_.img_scale, crop_size, reduce_zero_label=True)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
