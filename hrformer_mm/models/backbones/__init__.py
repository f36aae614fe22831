from .hrformer import HRFormer, HRFormerBlock
from .hrvit import HRViT, HRViTBlock

__all__ = ['HRFormer', 'HRFormerBlock', 'HRViT', 'HRViTBlock']
