from .hr_classification import HRClassificationNeck
from .hrnetv2 import HRNetV2Neck, resize_concat
from .hrpm import HighResolutionPyramidModule, HRPMNeck

__all__ = ['HRClassificationNeck', 'HRNetV2Neck', 'resize_concat',
           'HighResolutionPyramidModule', 'HRPMNeck']
