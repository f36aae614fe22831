# PASCAL-Context, 59 classes (background ignored): mmseg's recipe as it
# ships it (480x480 crops, resize scale 520x520), 4 images per GPU.
_base_ = 'mmseg::_base_/datasets/pascal_context_59.py'
num_classes = 59
