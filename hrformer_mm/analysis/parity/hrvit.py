"""Our HRViT backbone against the public HRViT code.

The public code is a checkout of github.com/facebookresearch/HRViT (its
``models/hrvit.py`` needs ``timm`` and ``einops``).  For each variant the
public backbone gets seeded values for every parameter and buffer (the
attention BatchNorm included, which starts at zero) in the public key
scheme; :func:`~hrformer_mm.models.backbones.hrvit_weights.
hrvit_checkpoint_filter` converts them, our backbone loads them strictly
and both compute the four outputs in eval mode.

The golden record (``tests/data/hrvit_golden.json.gz``) holds, for a tiny
variant, the public key names and shapes, the seed and the public code's
outputs: a few kilobytes, enough for the suite to check parity without the
public code.
"""
import base64
import gzip
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import torch

from hrformer_mm.testing import seeded_state

from . import ReferenceCheckoutError, load_module_from_file

#: the tiny variant of the golden test, in our arch-dict form
GOLDEN_ARCH = dict(channels=(16, 32, 32, 64), head_dim=8,
                   mlp_ratios=(2, 2, 2, 2),
                   blocks=((1, ), (1, 1), (1, 1, 2), (1, 1, 1, 1)))
GOLDEN_SEED = 0
GOLDEN_INPUT = (1, 3, 32, 32)
#: the range of the seeded norm weights and running variances (see
#: :func:`~hrformer_mm.testing.seeded_state`)
GOLDEN_POSITIVE = (0.5, 1.5)


def golden_state(keys_shapes: Sequence[Tuple[str, Sequence[int]]],
                 seed: int) -> Dict[str, torch.Tensor]:
    """Seeded values for the public key names and shapes, as the golden
    record was drawn."""
    return seeded_state(keys_shapes, seed, positive=GOLDEN_POSITIVE)


def golden_input() -> torch.Tensor:
    return torch.randn(GOLDEN_INPUT,
                       generator=torch.Generator().manual_seed(GOLDEN_SEED))


def load_reference(ref_dir: str):
    """The public ``models/hrvit.py`` of a checkout, as a module."""
    path = osp.join(ref_dir, 'models', 'hrvit.py')
    if not osp.isfile(path):
        raise ReferenceCheckoutError(
            f'{ref_dir} is not a checkout of github.com/facebookresearch/'
            f'HRViT (no models/hrvit.py)')
    return load_module_from_file(path, 'hrvit_reference')


def build_reference(ref, arch: dict):
    """The public ``HRViT`` with the branch lists of ``arch`` (ours)."""
    blocks = arch['blocks']
    channels = [tuple(arch['channels'][:len(b)]) for b in blocks]
    return ref.HRViT(stride=4, channels=64, channel_list=tuple(channels),
                     block_list=tuple(tuple(b) for b in blocks),
                     dim_head=arch['head_dim'],
                     ws_list=tuple(arch.get('stripe_widths', (1, 2, 7, 7))),
                     mlp_ratio_list=tuple(arch['mlp_ratios']),
                     num_classes=0)


def reference_state(model) -> Tuple[list, Dict[str, torch.Tensor]]:
    """The public key names and shapes (classifier left out) and their
    seeded values."""
    keys = [(k, tuple(v.shape)) for k, v in model.state_dict().items()
            if not k.startswith('head.')]
    return keys, golden_state(keys, GOLDEN_SEED)


def ours_from_reference_state(arch, state: Dict[str, torch.Tensor]):
    """Our backbone of ``arch`` with the public-scheme ``state`` converted
    and loaded strictly; eval mode."""
    from hrformer_mm.models.backbones import HRViT
    from hrformer_mm.models.backbones.hrvit_weights import \
        hrvit_checkpoint_filter
    converted, _ = hrvit_checkpoint_filter(state, whole_model=False)
    model = HRViT(arch)
    model.load_state_dict(converted, strict=True)
    return model.eval()


def _arch_dict(arch) -> dict:
    from hrformer_mm.models.backbones import HRViT
    return HRViT.arch_zoo[arch] if isinstance(arch, str) else arch


@torch.no_grad()
def compare(ref, arch, sizes: List[Tuple[int, int]]) -> float:
    """Largest absolute output difference of ``arch`` (a variant name or
    an arch dict) over inputs of ``sizes``, each printed."""
    reference = build_reference(ref, _arch_dict(arch)).eval()
    _, state = reference_state(reference)
    reference.load_state_dict(state, strict=False)
    ours = ours_from_reference_state(arch, state)
    worst = 0.
    for h, w in sizes:
        x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(1))
        expected = reference.forward_features(x)
        got = ours(x)
        diffs = [(a - b).abs().max().item() for a, b in zip(expected, got)]
        scale = max(a.abs().max().item() for a in expected)
        print(f'  {h}x{w}: max abs diff per stream '
              + ' '.join(f'{d:.2e}' for d in diffs)
              + f'  (largest output magnitude {scale:.2f})')
        worst = max(worst, *diffs)
    return worst


def encode(t: torch.Tensor) -> dict:
    return dict(shape=list(t.shape), data=base64.b64encode(
        t.contiguous().float().numpy().tobytes()).decode())


def decode(d: dict) -> torch.Tensor:
    import numpy as np
    data = np.frombuffer(base64.b64decode(d['data']), dtype=np.float32)
    return torch.from_numpy(data.copy()).reshape(d['shape'])


@torch.no_grad()
def write_golden(ref, path: str) -> None:
    """Record the public code's outputs of the tiny variant at ``path``."""
    reference = build_reference(ref, GOLDEN_ARCH).eval()
    keys, state = reference_state(reference)
    reference.load_state_dict(state, strict=False)
    outputs = reference.forward_features(golden_input())
    record = dict(
        source='facebookresearch/HRViT models/hrvit.py, HRViT(...)'
        '.forward_features, eval mode',
        arch={k: list(map(list, v)) if k == 'blocks' else list(v)
              for k, v in GOLDEN_ARCH.items() if k != 'head_dim'}
        | dict(head_dim=GOLDEN_ARCH['head_dim']),
        seed=GOLDEN_SEED, input_shape=list(GOLDEN_INPUT),
        keys=[[k, list(s)] for k, s in keys],
        outputs=[encode(o) for o in outputs])
    with gzip.open(path, 'wt') as f:
        json.dump(record, f)
    print(f'wrote {path} ({osp.getsize(path)} bytes, {len(keys)} keys)')
