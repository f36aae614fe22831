"""The plugin's own model registry and its hand-over to mmpose and mmseg.

``MODELS`` is a child of mmengine's root registry with scope
``hrformer_mm``, so any OpenMMLab config can name our modules
unambiguously as ``type='hrformer_mm.HRFormer'`` whatever its default
scope.  :func:`register_into_hosts` additionally makes each module visible
under its bare name in mmpose's, mmseg's, mmpretrain's and (when its models
import) mmdet's registries, except where the host already has a module of
that name (mmpose ships its own ``HRFormer``, all four an ``HRNet``): the
host's module is never replaced.
"""
import importlib
import importlib.util
from typing import Dict, List

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS

MODELS = Registry('model', parent=MMENGINE_MODELS, scope='hrformer_mm',
                  locations=['hrformer_mm.models'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='hrformer_mm',
                 locations=['hrformer_mm.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, scope='hrformer_mm',
                 locations=['hrformer_mm.engine'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS,
                         scope='hrformer_mm',
                         locations=['hrformer_mm.engine'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS,
                      scope='hrformer_mm',
                      locations=['hrformer_mm.datasets.transforms'])

HOSTS = ('mmpose', 'mmseg', 'mmdet', 'mmpretrain')
# Hosts whose models may fail to import (mmdet's need compiled mmcv ops on
# some installs); they are then left out rather than breaking the import.
OPTIONAL_HOSTS = ('mmdet', )


def register_into_hosts(hosts=HOSTS) -> Dict[str, List[str]]:
    """Register our modules into each installed host's ``MODELS``.

    The host's model package is imported first so that everything it
    registers is already there; names it owns are skipped.  Returns, per
    host, the names that were skipped because the host owns them.
    """
    skipped = {}
    for host in hosts:
        if importlib.util.find_spec(host) is None:
            continue
        try:
            importlib.import_module(f'{host}.models')
        except ImportError:
            if host in OPTIONAL_HOSTS:
                continue
            raise
        host_models = importlib.import_module(f'{host}.registry').MODELS
        skipped[host] = []
        for name, cls in MODELS.module_dict.items():
            owner = host_models.module_dict.get(name)
            if owner is None:
                host_models.register_module(name=name, module=cls)
            elif owner is not cls:
                skipped[host].append(name)
    return skipped
