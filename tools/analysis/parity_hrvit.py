"""Numerical parity of our HRViT with the public HRViT code.

    python tools/analysis/parity_hrvit.py --ref-dir DIR [--arch b1 b2 b3]
        [--size H W ...] [--write-golden tests/data/hrvit_golden.json.gz]

DIR is a checkout of github.com/facebookresearch/HRViT (fetched at check
time, never part of this repository); its ``models/hrvit.py`` needs
``timm`` and ``einops`` on the path.  For each variant the script builds the
public backbone, gives every parameter and buffer seeded random values (the
attention BatchNorm included, which starts at zero), saves its state dict in
the public key scheme, converts it with
:func:`~hrformer_mm.models.backbones.hrvit_weights.hrvit_checkpoint_filter`,
loads it strictly into ours and compares the four outputs in eval mode.

``--write-golden`` records, once, the reference outputs of a tiny variant
for ``tests/test_models/test_hrvit.py``: the public key names and shapes, the seed and
the outputs (a few kilobytes), so the suite checks parity without the
public code.
"""
import argparse
import base64
import gzip
import importlib.util
import json
import math
import os.path as osp
import sys
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import torch  # noqa: E402

# the tiny variant of the golden test, in our arch-dict form
GOLDEN_ARCH = dict(channels=(16, 32, 32, 64), head_dim=8,
                   mlp_ratios=(2, 2, 2, 2),
                   blocks=((1, ), (1, 1), (1, 1, 2), (1, 1, 1, 1)))
GOLDEN_SEED = 0
GOLDEN_INPUT = (1, 3, 32, 32)


def seeded_state_dict(keys_shapes: Sequence[Tuple[str, Sequence[int]]],
                      seed: int) -> Dict[str, torch.Tensor]:
    """Random values for a state dict, from its key names and shapes only.

    Norm weights and running variances in [0.5, 1.5], biases and running
    means small, other weights scaled by 1 / sqrt(fan_in): every path of
    the network, the zero-initialised attention norm included, carries
    signal of order one."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in keys_shapes:
        shape = tuple(shape)
        if key.endswith('num_batches_tracked'):
            state[key] = torch.zeros(shape, dtype=torch.long)
        elif key.endswith('running_var') or (key.endswith('weight')
                                             and len(shape) == 1):
            state[key] = 0.5 + torch.rand(shape, generator=g)
        elif len(shape) <= 1:
            state[key] = 0.1 * torch.randn(shape, generator=g)
        else:
            fan_in = math.prod(shape[1:])
            state[key] = torch.randn(shape, generator=g) / math.sqrt(fan_in)
    return state


def golden_input() -> torch.Tensor:
    return torch.randn(GOLDEN_INPUT,
                       generator=torch.Generator().manual_seed(GOLDEN_SEED))


def load_reference(ref_dir: str):
    path = osp.join(ref_dir, 'models', 'hrvit.py')
    spec = importlib.util.spec_from_file_location('hrvit_reference', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # timm's register_model looks it up
    spec.loader.exec_module(module)
    return module


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


def reference_state(model) -> Dict[str, torch.Tensor]:
    """Seeded values in the public key scheme, classifier left out."""
    keys = [(k, tuple(v.shape)) for k, v in model.state_dict().items()
            if not k.startswith('head.')]
    return keys, seeded_state_dict(keys, GOLDEN_SEED)


def ours_from_reference_state(arch, state: Dict[str, torch.Tensor]):
    from hrformer_mm.models.backbones import HRViT
    from hrformer_mm.models.backbones.hrvit_weights import \
        hrvit_checkpoint_filter
    converted, _ = hrvit_checkpoint_filter(state, whole_model=False)
    model = HRViT(arch)
    model.load_state_dict(converted, strict=True)
    return model.eval()


def compare(ref, arch, sizes: List[Tuple[int, int]]) -> float:
    reference = build_reference(ref, _arch_dict(arch)).eval()
    _, state = reference_state(reference)
    reference.load_state_dict(state, strict=False)
    ours = ours_from_reference_state(arch, state)
    worst = 0.
    for h, w in sizes:
        x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            expected = reference.forward_features(x)
            got = ours(x)
        diffs = [(a - b).abs().max().item() for a, b in zip(expected, got)]
        scale = max(a.abs().max().item() for a in expected)
        print(f'  {h}x{w}: max abs diff per stream '
              + ' '.join(f'{d:.2e}' for d in diffs)
              + f'  (largest output magnitude {scale:.2f})')
        worst = max(worst, *diffs)
    return worst


def _arch_dict(arch) -> dict:
    from hrformer_mm.models.backbones import HRViT
    return HRViT.arch_zoo[arch] if isinstance(arch, str) else arch


def _encode(t: torch.Tensor) -> dict:
    return dict(shape=list(t.shape), data=base64.b64encode(
        t.contiguous().float().numpy().tobytes()).decode())


def decode(d: dict) -> torch.Tensor:
    import numpy as np
    data = np.frombuffer(base64.b64decode(d['data']), dtype=np.float32)
    return torch.from_numpy(data.copy()).reshape(d['shape'])


def write_golden(ref, path: str) -> None:
    reference = build_reference(ref, GOLDEN_ARCH).eval()
    keys, state = reference_state(reference)
    reference.load_state_dict(state, strict=False)
    with torch.no_grad():
        outputs = reference.forward_features(golden_input())
    record = dict(
        source='facebookresearch/HRViT models/hrvit.py, HRViT(...)'
        '.forward_features, eval mode',
        arch={k: list(map(list, v)) if k == 'blocks' else list(v)
              for k, v in GOLDEN_ARCH.items() if k != 'head_dim'}
        | dict(head_dim=GOLDEN_ARCH['head_dim']),
        seed=GOLDEN_SEED, input_shape=list(GOLDEN_INPUT),
        keys=[[k, list(s)] for k, s in keys],
        outputs=[_encode(o) for o in outputs])
    with gzip.open(path, 'wt') as f:
        json.dump(record, f)
    print(f'wrote {path} ({osp.getsize(path)} bytes, {len(keys)} keys)')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--ref-dir', required=True,
                   help='checkout of facebookresearch/HRViT')
    p.add_argument('--arch', nargs='+', default=['b1', 'b2', 'b3'])
    p.add_argument('--size', type=int, nargs=2, action='append',
                   metavar=('H', 'W'),
                   help='input sizes, multiples of 32 (default 224x224 and '
                   '64x96)')
    p.add_argument('--tol', type=float, default=1e-5)
    p.add_argument('--write-golden', metavar='PATH')
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    ref = load_reference(args.ref_dir)
    if args.write_golden:
        write_golden(ref, args.write_golden)
        return
    sizes = args.size or [(224, 224), (64, 96)]
    failed = []
    for arch in args.arch:
        print(f'HRViT-{arch}:')
        worst = compare(ref, arch, sizes)
        print(f'  worst {worst:.2e} -> {"OK" if worst < args.tol else "FAIL"}')
        if worst >= args.tol:
            failed.append(arch)
    if failed:
        sys.exit(f'parity failed for {failed}')


if __name__ == '__main__':
    main()
