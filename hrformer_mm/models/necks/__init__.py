from .hrnetv2 import HRNetV2Neck, resize_concat

__all__ = ['HRNetV2Neck', 'resize_concat']
