# COCO-Stuff 164k (171 classes): mmseg's recipe with 520x520 training crops.
_base_ = 'mmseg::_base_/datasets/coco-stuff164k.py'
from hrformer_mm.config_helpers import seg_pipelines

crop_size = (520, 520)
num_classes = 171
train_pipeline, test_pipeline = seg_pipelines((2048, 520), crop_size)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
