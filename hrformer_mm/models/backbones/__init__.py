from .hrformer import HRFormer, HRFormerBlock

__all__ = ['HRFormer', 'HRFormerBlock']
