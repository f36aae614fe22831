"""Segmentor wrappers the hosts do not ship.

They subclass mmseg's classes, so they exist only where mmseg is installed
(a pose-only install imports nothing from here)."""
import importlib.util

__all__ = []

if importlib.util.find_spec('mmseg') is not None:
    from .flip_swap_tta import FlipSwapSegTTAModel  # noqa: F401
    __all__ += ['FlipSwapSegTTAModel']
