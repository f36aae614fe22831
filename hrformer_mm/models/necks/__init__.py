from .hrnetv2 import HRNetV2Neck, resize_concat
from .hrpm import HighResolutionPyramidModule, HRPMNeck

__all__ = ['HRNetV2Neck', 'resize_concat', 'HighResolutionPyramidModule',
           'HRPMNeck']
