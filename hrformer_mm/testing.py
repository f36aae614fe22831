"""Helpers shared by the test-suite and the parity / benchmark tools."""
import copy

from hrformer_mm.models.backbones.base import branch_block_counts
from hrformer_mm.models.backbones.hrformer import HRFormer


def mmpose_hrformer_extra(arch: str, drop_path_rate: float = 0.,
                          multiscale_output: bool = False,
                          window_sizes=None,
                          with_rpe: bool = True) -> dict:
    """The ``extra`` dict that builds mmpose's HRFormer with our ``arch``."""
    a = HRFormer._resolve_arch(arch, window_sizes)
    extra = dict(
        drop_path_rate=drop_path_rate, with_rpe=with_rpe,
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                    num_blocks=(a['stage1_blocks'], ),
                    num_channels=(a['stage1_channels'], )))
    for s, n, blocks in zip((2, 3, 4), a['num_modules'],
                            branch_block_counts(a['num_blocks'])):
        extra[f'stage{s}'] = dict(
            num_modules=n, num_branches=s, block='HRFORMERBLOCK',
            num_blocks=blocks,
            num_channels=tuple(a['channels'][:s]),
            num_heads=tuple(a['num_heads'][:s]),
            mlp_ratios=tuple(a['mlp_ratios'][:s]),
            window_sizes=tuple(a['window_sizes'][:s]))
    extra['stage4']['multiscale_output'] = multiscale_output
    return copy.deepcopy(extra)


def hrnet_extra(arch, multiscale_output: bool = True) -> dict:
    """The ``extra`` dict that builds mmpose's / mmseg's HRNet as our
    ``HRNet(arch)``."""
    from hrformer_mm.models.backbones.hrnet import HRNet
    a = HRNet._resolve_arch(arch)
    extra = dict(stage1=dict(num_modules=1, num_branches=1,
                             block=a['stage1_block'],
                             num_blocks=(a['stage1_blocks'], ),
                             num_channels=(a['stage1_channels'], )))
    for s, n, name, (_, widths, blocks) in zip(
            (2, 3, 4), a['num_modules'], a['block'], HRNet._stage_layout(a)):
        extra[f'stage{s}'] = dict(num_modules=n, num_branches=s, block=name,
                                  num_blocks=blocks, num_channels=widths)
    extra['stage4']['multiscale_output'] = multiscale_output
    return copy.deepcopy(extra)


def seeded_state(spec, seed: int, positive=None) -> dict:
    """A state dict with well-scaled random values for every ``(key, shape,
    dtype)`` of ``spec`` (``(key, shape)`` pairs: float32, but the integer
    ``num_batches_tracked``), the same for a given seed on every machine.

    The one seeding scheme of the parity tools and golden-output tests: it
    writes weights in a *foreign* key scheme (the reference releases')
    without shipping them; a golden file stores the spec and the seed, and
    the tensors are drawn again.  Weights get a fan-in scale, biases and
    running means +-0.1, so a wrong wiring cannot hide behind zeros and
    ones; integer buffers are zero.  The positive tensors, norm weights and
    running variances, are by default 1 +- 0.1 (normal) and uniform in
    [0.75, 1.25); with ``positive=(low, high)`` both are uniform in
    [low, high) instead, one draw each (what the HRViT golden record,
    ``hrformer_mm.analysis.parity.hrvit.GOLDEN_POSITIVE``, was drawn with:
    the reference's attention BatchNorm starts at zero, and a wide range
    gives every path a signal of order one).
    """
    import torch
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape, *dtype in spec:
        dtype = dtype[0] if dtype else (
            'int64' if key.endswith('num_batches_tracked') else 'float32')
        dtype = getattr(torch, str(dtype).replace('torch.', ''))
        shape = tuple(shape)
        if not dtype.is_floating_point:
            state[key] = torch.zeros(shape, dtype=dtype)
            continue
        if positive is not None and (
                key.endswith('running_var') or
                (key.endswith('weight') and len(shape) == 1)):
            low, high = positive
            state[key] = (low + (high - low) *
                          torch.rand(shape, generator=g)).to(dtype)
            continue
        r = torch.randn(shape, generator=g)
        if key.endswith('running_var'):
            v = 0.75 + 0.5 * torch.rand(shape, generator=g)
        elif key.endswith(('running_mean', '.bias')) or len(shape) == 0:
            v = 0.1 * r
        elif len(shape) == 1:
            v = 1 + 0.1 * r
        else:
            fan_in = max(1, r.numel() // shape[0])
            v = r / fan_in**0.5
        state[key] = v.to(dtype)
    return state


def state_spec(state: dict) -> list:
    """``(key, shape, dtype)`` of every tensor, the input of
    :func:`seeded_state`."""
    return [(k, list(v.shape), str(v.dtype).replace('torch.', ''))
            for k, v in state.items()]
