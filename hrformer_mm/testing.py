"""Helpers shared by the test-suite and the parity / benchmark tools."""
import copy

from hrformer_mm.models.backbones.hrformer import HRFormer


def mmpose_hrformer_extra(arch: str, drop_path_rate: float = 0.,
                          multiscale_output: bool = False,
                          window_size: int = None,
                          with_rpe: bool = True) -> dict:
    """The ``extra`` dict that builds mmpose's HRFormer with our ``arch``."""
    a = HRFormer._resolve_arch(arch, window_size)
    extra = dict(
        drop_path_rate=drop_path_rate, with_rpe=with_rpe,
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                    num_blocks=(a['stage1_blocks'], ),
                    num_channels=(a['stage1_channels'], )))
    for s, n in zip((2, 3, 4), a['num_modules']):
        extra[f'stage{s}'] = dict(
            num_modules=n, num_branches=s, block='HRFORMERBLOCK',
            num_blocks=(a['num_blocks'], ) * s,
            num_channels=tuple(a['channels'][:s]),
            num_heads=tuple(a['num_heads'][:s]),
            mlp_ratios=tuple(a['mlp_ratio'][:s]),
            window_sizes=tuple(a['window_size'][:s]))
    extra['stage4']['multiscale_output'] = multiscale_output
    return copy.deepcopy(extra)
