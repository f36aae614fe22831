# Cityscapes (19 classes): mmseg's 1024x1024 crops (SegFormer / HRViT
# recipe), 1 image per GPU.
_base_ = 'mmseg::_base_/datasets/cityscapes_1024x1024.py'
num_classes = 19
train_dataloader = dict(batch_size=1)
