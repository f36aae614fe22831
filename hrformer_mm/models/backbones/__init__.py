from .base import HRNetLayoutBackbone, MultiResolutionBackbone
from .hrformer import HRFormer, HRFormerBlock
from .hrnet import HRNet
from .hrvit import HRViT, HRViTBlock

__all__ = ['HRFormer', 'HRFormerBlock', 'HRNet', 'HRViT', 'HRViTBlock',
           'HRNetLayoutBackbone', 'MultiResolutionBackbone']
