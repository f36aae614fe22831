"""Which ``F.scaled_dot_product_attention`` calls torch's fused CUDA kernels
take, read from the call's arguments, and the layouts that make them.

On a GPU, SDPA runs flash attention, the memory-efficient (cutlass) kernel
or cuDNN's, and falls back to its math path (the full attention matrix,
upcast) when none accepts the arguments.  Flash attention takes no
``attn_mask``, so every attention with a relative position bias or a
padding mask needs the memory-efficient kernel.  :func:`fused_sdpa_ok`
encodes the conditions torch 2.14 checks for both on an sm80 or newer GPU
(``aten/src/ATen/native/transformers/cuda/sdp_utils.cpp``,
``sdp_utils_cpp.h``), what ``scaled_dot_product_attention`` does to the
mask before the memory-efficient kernel (``attention.cpp``,
``preprocess_mask``: a mask whose strides are not multiples of 8 is copied
into a padded tensor on every call) and what that kernel asserts
(``mem_eff_attention/kernel_forward.h``, ``check_supported``).  What only
the GPU decides (its compute capability, kernels switched off at run time,
cuDNN's own rules) is not modelled.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

__all__ = ['FUSED_ALIGNMENT', 'fused_sdpa_ok', 'pad_last_dim',
           'aligned_attn_mask', 'wants_fused_layout']

#: elements: the memory-efficient kernel's head-dim and stride alignment
#: under fp16 / bf16 on sm80+ (fp32 needs 4), and the stride alignment SDPA
#: wants of an ``attn_mask`` before it copies it
FUSED_ALIGNMENT = 8

_HALF = (torch.float16, torch.bfloat16)
_FLASH_MAX_HEAD_DIM = 256


def wants_fused_layout(x: torch.Tensor) -> bool:
    """Whether SDPA on ``x``'s device can pick a fused kernel: on CUDA.

    The CPU kernels take any head dim and mask layout, so padding there
    only adds work."""
    return x.device.type == 'cuda'


def pad_last_dim(x: torch.Tensor) -> torch.Tensor:
    """``x`` with zeros appended to its last dim, up to a multiple of
    :data:`FUSED_ALIGNMENT` (``x`` itself where it is one)."""
    pad = -x.shape[-1] % FUSED_ALIGNMENT
    return F.pad(x, (0, pad)) if pad else x


def _mask_strides_aligned(mask: torch.Tensor) -> bool:
    # preprocess_mask's test, every dim's stride (size-1 dims included)
    return mask.stride(-1) == 1 and all(
        s % FUSED_ALIGNMENT == 0 for s in mask.stride()[:-1])


def _mask_is_aligned(mask: torch.Tensor) -> bool:
    return _mask_strides_aligned(mask) and \
        mask.storage_offset() % FUSED_ALIGNMENT == 0


def aligned_attn_mask(mask: torch.Tensor) -> torch.Tensor:
    """``mask``'s values in a layout SDPA hands to the memory-efficient
    kernel as it is: rows padded to a multiple of :data:`FUSED_ALIGNMENT`
    and the padding sliced off again (a view; ``mask`` itself where it is
    aligned already)."""
    if _mask_is_aligned(mask):
        return mask
    n = mask.shape[-1]
    return F.pad(mask, (0, -n % FUSED_ALIGNMENT)).contiguous()[..., :n]


def _strides_aligned(t: torch.Tensor, alignment: int) -> bool:
    # the kernels' check_supported (forward and backward): batch, head and
    # sequence strides, where that dim has more than one entry
    return all(s % alignment == 0
               for size, s in zip(t.shape[:-1], t.stride()[:-1]) if size > 1)


def fused_sdpa_ok(query: torch.Tensor,
                  key: torch.Tensor,
                  value: torch.Tensor,
                  attn_mask: Optional[torch.Tensor] = None,
                  dropout_p: float = 0.,
                  is_causal: bool = False,
                  scale: Optional[float] = None,
                  enable_gqa: bool = False) -> Tuple[bool, str]:
    """Whether a CUDA SDPA call with these arguments (SDPA's own signature)
    runs a fused kernel without copying its inputs:
    ``(True, 'flash' | 'efficient')`` (flash where it can, as torch prefers
    it), else ``(False, reasons)``.

    The arguments' dtypes, shapes, strides and storage offsets are read;
    their device and values are not, so CPU tensors (or fake ones) of the
    dtype the GPU run uses answer for that run.  Both kernels take dropout
    and any ``scale``.
    """
    del dropout_p, scale
    reasons = []
    if enable_gqa:
        reasons.append('grouped-query attention is not modelled')
    if is_causal and attn_mask is not None:
        reasons.append('is_causal with an attn_mask')
    tensors = dict(query=query, key=key, value=value)
    if any(t.is_nested for t in tensors.values()):
        return False, 'nested tensors are not modelled'
    if not all(t.dim() == 4 for t in tensors.values()):
        return False, 'query, key and value must be 4-D (B, heads, L, E)'
    dtype = query.dtype
    if not (key.dtype == value.dtype == dtype):
        reasons.append('query, key and value dtypes differ')
    if dtype not in _HALF + (torch.float32, ):
        reasons.append(f'dtype {dtype} is not fp16, bf16 or fp32')
    if not (query.shape[0] == key.shape[0] == value.shape[0]
            and query.shape[1] == key.shape[1] == value.shape[1]):
        reasons.append('batch size or head count differ (broadcast)')
    if query.shape[2] == 0 or key.shape[2] == 0:
        reasons.append('empty sequence')
    if any(t.stride(-1) != 1 for t in tensors.values()):
        reasons.append('last dim of query / key / value not contiguous')
    # sdp_utils.cpp minimum_gemm_alignment on sm80+: 128 bits
    alignment = 8 if dtype in _HALF else 4
    e_qk, e_v = query.shape[-1], value.shape[-1]
    if key.shape[-1] != e_qk:
        reasons.append('query and key head dims differ')
    if e_qk % alignment or e_v % alignment:
        reasons.append(f'head dim (query {e_qk}, value {e_v}) not a '
                       f'multiple of {alignment}')
    # check_data_ptr_alignment_mem_efficient, and the kernel's pointer check
    for name, t in tensors.items():
        if t.storage_offset() % alignment:
            reasons.append(f'{name} storage offset {t.storage_offset()} not '
                           f'a multiple of {alignment}')
    # the aligned kernel's dispatch and check_supported (strideM, strideH)
    for name, t in tensors.items():
        if not _strides_aligned(t, alignment):
            reasons.append(f'{name} strides {t.stride()} not multiples of '
                           f'{alignment}')
    if attn_mask is None:
        if not reasons and dtype in _HALF and e_qk == e_v and \
                e_qk <= _FLASH_MAX_HEAD_DIM:
            return True, 'flash'
    else:
        shape = (query.shape[0], query.shape[1], query.shape[2],
                 key.shape[2])
        try:
            if torch.broadcast_shapes(attn_mask.shape, shape) != shape:
                raise RuntimeError
        except RuntimeError:
            reasons.append(f'attn_mask {tuple(attn_mask.shape)} does not '
                           f'broadcast to {shape}')
        if attn_mask.dtype == torch.bool:
            reasons.append('boolean attn_mask: SDPA converts it to a new '
                           'additive tensor on every call')
        elif attn_mask.dtype != dtype:
            # attention.cu: "invalid dtype for bias - should match query's"
            reasons.append(f'attn_mask dtype {attn_mask.dtype} is not the '
                           f'query dtype {dtype}')
        elif not _mask_strides_aligned(attn_mask):
            reasons.append(
                f'attn_mask strides {attn_mask.stride()} not multiples of '
                f'{FUSED_ALIGNMENT} with a contiguous last dim: SDPA pads a '
                f'copy on every call')
        elif attn_mask.storage_offset() % FUSED_ALIGNMENT:
            # the kernel's pointer check raises; SDPA does not realign
            reasons.append(f'attn_mask storage offset '
                           f'{attn_mask.storage_offset()} not a multiple of '
                           f'{FUSED_ALIGNMENT}')
    if reasons:
        return False, '; '.join(reasons)
    return True, 'efficient'
