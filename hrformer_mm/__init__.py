"""HRFormer-MM: high-resolution vision transformers for mmpose and mmseg.

Importing the package (directly or through a config's ``custom_imports``)
applies the environment fixes in :mod:`hrformer_mm.compat`, registers the
models in the ``hrformer_mm`` registry scope and hands them to mmpose's and
mmseg's registries under their bare names where those are free.
"""
from . import compat

compat.apply_all()

from . import engine, models  # noqa: E402,F401
from .registry import MODELS, register_into_hosts  # noqa: E402

__version__ = '0.1.0'

#: Names mmpose / mmseg already own; use ``hrformer_mm.<Name>`` for ours.
SHADOWED_BY_HOST = register_into_hosts()

__all__ = ['MODELS', 'SHADOWED_BY_HOST', '__version__']
