# Cityscapes (19 classes): mmseg's recipe (512x1024 crops), 1 image per GPU.
_base_ = 'mmseg::_base_/datasets/cityscapes.py'
num_classes = 19
train_dataloader = dict(batch_size=1)
