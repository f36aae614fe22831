from .conv_ffn import ConvFFN
from .fusion import (HighResolutionModule, MultiResolutionFusion,
                     apply_transition, make_transition)
from .resnet_blocks import BasicBlock, Bottleneck, make_res_layer
from .window_attention import (LocalWindowAttention, WindowMultiHeadAttention,
                               centred_window_padding, padding_attention_mask,
                               relative_position_index, window_partition,
                               window_reverse)

__all__ = [
    'ConvFFN', 'HighResolutionModule', 'MultiResolutionFusion',
    'apply_transition', 'make_transition', 'BasicBlock', 'Bottleneck',
    'make_res_layer', 'LocalWindowAttention', 'WindowMultiHeadAttention',
    'centred_window_padding', 'padding_attention_mask',
    'relative_position_index', 'window_partition', 'window_reverse'
]
