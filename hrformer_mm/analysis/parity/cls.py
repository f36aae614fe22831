"""The ImageNet classifiers against the reference classification code.

For HRFormer the reference is the HRFormer release's ``cls/`` code
(github.com/HRNet/HRFormer: ``cls/models/hrt.py``,
``HighResolutionTransformer`` built from ``cls/configs/hrt/hrt_*.yaml``);
for HRViT the public code (github.com/facebookresearch/HRViT:
``models/hrvit.py``, ``HRViT_b*_224``).  Each reference classifier gets
seeded random weights in its own key scheme
(:func:`hrformer_mm.testing.seeded_state`), saved as its training code
saves them (under ``model`` for HRFormer), and loaded with
``load_state_dict`` into the model of our config (``configs/cls/
*_imagenet.py``): the load-time adaptation moves the head to the neck and
the linear classifier, and renames the backbone.  Then both compute the
logits of the same images in eval mode.

The golden record (``tests/data/cls_golden.pt``) holds every variant's key
names, shapes, seed and reference logits.
"""
import os.path as osp
from typing import Dict, List

import torch

from hrformer_mm.testing import seeded_state

from . import ReferenceCheckoutError, load_module_from_file, \
    reference_on_path

#: our config -> (family, reference variant)
VARIANTS = {
    'configs/cls/hrformer_t_imagenet.py': ('hrformer', 'hrt_tiny'),
    'configs/cls/hrformer_s_imagenet.py': ('hrformer', 'hrt_small'),
    'configs/cls/hrformer_b_imagenet.py': ('hrformer', 'hrt_base'),
    'configs/cls/hrvit_b1_imagenet.py': ('hrvit', 'HRViT_b1_224'),
    'configs/cls/hrvit_b2_imagenet.py': ('hrvit', 'HRViT_b2_224'),
    'configs/cls/hrvit_b3_imagenet.py': ('hrvit', 'HRViT_b3_224'),
}
SEED = 0
#: two images: 224 x 224 (the recipe's) and 160 x 192 (not a multiple of
#: the windows' 32-pixel period at the lowest resolution)
SIZES = ((224, 224), (160, 192))


def images(seed: int = SEED) -> List[torch.Tensor]:
    g = torch.Generator().manual_seed(seed + 1)
    return [torch.randn(1, 3, h, w, generator=g) for h, w in SIZES]


def build_reference(family: str, variant: str, ref_dir: str):
    """The reference classifier, eval mode, with its own initialisation."""
    if family == 'hrformer':
        cls = osp.join(ref_dir, 'cls')
        if not osp.isfile(osp.join(cls, 'models', 'hrt.py')):
            raise ReferenceCheckoutError(
                f'{ref_dir} is not a checkout of github.com/HRNet/HRFormer '
                f'(no cls/models/hrt.py)')
        with reference_on_path(cls):
            import config as ref_config  # cls/config.py: the yacs defaults
            from models.hrt import HighResolutionTransformer
            from models.modules import multihead_isa_attention as isa
        # the reference's padding helper calls F.pad without importing F
        # (its training never padded: 224 / 4 / 2**i is a multiple of 7)
        isa.F = torch.nn.functional
        cfg = ref_config._C.clone()
        ref_config._update_config_from_file(
            cfg, osp.join(cls, 'configs', 'hrt', variant + '.yaml'))
        return HighResolutionTransformer(cfg.MODEL.HRT,
                                         num_classes=1000).eval()
    path = osp.join(ref_dir, 'models', 'hrvit.py')
    if not osp.isfile(path):
        raise ReferenceCheckoutError(
            f'{ref_dir} is not a checkout of github.com/facebookresearch/'
            f'HRViT (no models/hrvit.py)')
    module = load_module_from_file(path, 'hrvit_reference')
    return getattr(module, variant)(num_classes=1000).eval()


def reference_spec(model) -> list:
    return [(k, tuple(v.shape), str(v.dtype))
            for k, v in model.state_dict().items()]


def seeded_reference(reference):
    """Seeded weights for ``reference``, loaded; returns them.  Integer
    buffers (``relative_position_index``) are derived, not weights: the
    reference keeps its own (ours recomputes them on load)."""
    state = seeded_state(reference_spec(reference), SEED)
    own = reference.state_dict()
    loaded = dict(state, **{k: v for k, v in own.items()
                            if not v.is_floating_point()})
    reference.load_state_dict(loaded, strict=True)
    return state


def saved_as_reference(family: str, state: Dict[str, torch.Tensor]) -> dict:
    """The checkpoint layout of the reference training code: HRFormer's
    (Swin's ``save_checkpoint``) keeps the weights under ``model``; HRViT's
    (timm's ``CheckpointSaver``) under ``state_dict``."""
    return {'model' if family == 'hrformer' else 'state_dict': state}


def build_ours(config: str, checkpoint: dict):
    """Our classifier of ``config`` with ``checkpoint`` loaded strictly
    through the load-time adaptation; eval mode."""
    from hrformer_mm.engine.launch import build_model_from_config
    _, model = build_model_from_config(config)
    state = dict(checkpoint)
    if 'state_dict' in state:  # what mmengine's load_checkpoint unwraps
        state = state['state_dict']
    model.load_state_dict(state, strict=True)
    return model.eval()


@torch.no_grad()
def logits(model, x: torch.Tensor, ours: bool) -> torch.Tensor:
    return model(x, mode='tensor') if ours else model(x)


def relative_diff(expected: torch.Tensor, got: torch.Tensor) -> float:
    """Largest logit difference relative to the largest logit: seeded
    weights give logits of order 10-100, where float32 rounding of a
    different order of operations (fused attention, merged q/k/v) is a few
    1e-5 absolute, a few 1e-7 relative."""
    return ((expected - got).abs().max() / expected.abs().max()).item()


def compare(config: str, ref_dir: str) -> float:
    """Largest relative logit difference of ``config`` against its
    reference classifier, over :data:`SIZES`, each printed."""
    family, variant = VARIANTS[config]
    reference = build_reference(family, variant, ref_dir)
    state = seeded_reference(reference)
    ours = build_ours(config, saved_as_reference(family, state))
    worst = 0.
    for x in images():
        expected = logits(reference, x, False)
        got = logits(ours, x, True)
        diff = relative_diff(expected, got)
        print(f'  {tuple(x.shape[-2:])}: max |logit diff| / max |logit| '
              f'{diff:.2e} (logits up to {expected.abs().max():.2f})')
        worst = max(worst, diff)
    return worst


def write_golden(ref_dirs: Dict[str, str], path: str) -> None:
    """Record every variant's reference logits at ``path``; ``ref_dirs``
    maps a family (``hrformer``, ``hrvit``) to its checkout."""
    record = dict(seed=SEED, sizes=SIZES, variants={})
    for config, (family, variant) in VARIANTS.items():
        reference = build_reference(family, variant, ref_dirs[family])
        seeded_reference(reference)
        record['variants'][config] = dict(
            family=family, reference=variant,
            spec=reference_spec(reference),
            logits=[logits(reference, x, False) for x in images()])
    torch.save(record, path)
    print(f'wrote {path} ({osp.getsize(path)} bytes)')
