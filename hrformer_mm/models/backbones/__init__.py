from .base import MultiResolutionBackbone
from .hrformer import HRFormer, HRFormerBlock
from .hrnet import HRNet

__all__ = ['HRFormer', 'HRFormerBlock', 'HRNet', 'MultiResolutionBackbone']
