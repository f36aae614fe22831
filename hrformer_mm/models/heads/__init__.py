"""Decode heads the hosts do not ship in the form a paper used.

They subclass mmseg's ``BaseDecodeHead``, so they exist only where mmseg is
installed (a pose-only install imports nothing from here)."""
import importlib.util

__all__ = []

if importlib.util.find_spec('mmseg') is not None:
    from .segformer_mlp_head import SegFormerMLPHead  # noqa: F401
    __all__ += ['SegFormerMLPHead']
