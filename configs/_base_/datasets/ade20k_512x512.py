# ADE20K (150 classes): mmseg's recipe (512x512 crops, as SegFormer / HRViT),
# 2 images per GPU.
_base_ = 'mmseg::_base_/datasets/ade20k.py'
num_classes = 150
train_dataloader = dict(batch_size=2)
