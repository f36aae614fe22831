from .attention_utils import (FUSED_ALIGNMENT, aligned_attn_mask,
                              fused_sdpa_ok, pad_last_dim, wants_fused_layout)
from .conv_act import Conv2dAct, fusable_activation, fuse_conv_activations
from .conv_ffn import ConvFFN
from .drop_path import DropPath, drop_path_rates
from .fusion import (DOWNSAMPLE_MODES, UPSAMPLE_DEFAULTS,
                     HighResolutionModule, MultiResolutionFusion,
                     apply_transition, complete_upsample_cfg,
                     make_transition)
from .mix_cfn import MixCFN
from .patch_embed import ConvStem, EfficientPatchEmbed
from .resnet_blocks import (BasicBlock, Bottleneck, DepthwiseBottleneck,
                            make_res_layer)
from .shortcut import DiversityEnhancedShortcut, des_factors
from .stripe_attention import (CrossShapedStripeAttention,
                               horizontal_stripe_attention,
                               stripe_attention_mask, stripe_padding_mask,
                               stripe_partition, stripe_reverse)
from .window_attention import (LocalWindowAttention, WindowMultiHeadAttention,
                               centred_window_padding, padding_attention_mask,
                               relative_position_index, window_partition,
                               window_reverse)

__all__ = [
    'FUSED_ALIGNMENT', 'aligned_attn_mask', 'fused_sdpa_ok', 'pad_last_dim',
    'wants_fused_layout',
    'Conv2dAct', 'fusable_activation', 'fuse_conv_activations', 'ConvFFN',
    'DropPath', 'drop_path_rates',
    'HighResolutionModule', 'MultiResolutionFusion', 'DOWNSAMPLE_MODES',
    'UPSAMPLE_DEFAULTS', 'complete_upsample_cfg', 'apply_transition',
    'make_transition', 'BasicBlock', 'Bottleneck',
    'DepthwiseBottleneck',
    'make_res_layer', 'LocalWindowAttention', 'WindowMultiHeadAttention',
    'centred_window_padding', 'padding_attention_mask',
    'relative_position_index', 'window_partition', 'window_reverse',
    'MixCFN', 'ConvStem', 'EfficientPatchEmbed', 'DiversityEnhancedShortcut',
    'des_factors', 'CrossShapedStripeAttention', 'horizontal_stripe_attention',
    'stripe_attention_mask', 'stripe_padding_mask', 'stripe_partition',
    'stripe_reverse'
]
