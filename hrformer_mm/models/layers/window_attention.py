"""Local-window multi-head self-attention, as used by HRFormer.

The feature map is split into non-overlapping K x K windows and every window
attends only to itself (HRFormer, Sec. 3.1).  Three details matter for
fidelity to the released models and are kept as plain functions so they can
be tested on their own:

* padding is centred: ``pad // 2`` rows / columns before, the rest after;
* the relative position bias is Swin's ``(2K-1)^2 x heads`` table;
* padded tokens are *not* masked by default (neither the reference code nor
  mmpose masks them).  ``with_pad_mask=True`` masks them whenever either axis
  is padded; mmpose's own option only masks when both are, which is a bug.
"""
from collections import OrderedDict
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .attention_utils import (aligned_attn_mask, pad_last_dim,
                              wants_fused_layout)
from .graph_capture import capturing_graph

__all__ = [
    'centred_window_padding', 'window_partition', 'window_reverse',
    'relative_position_index', 'padding_attention_mask',
    'WindowMultiHeadAttention', 'LocalWindowAttention'
]


def centred_window_padding(size: int, window: int) -> Tuple[int, int]:
    """(before, after) padding that makes ``size`` a multiple of ``window``."""
    total = (window - size % window) % window
    return total // 2, total - total // 2


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """(B, H, W, C) with H, W multiples of ``window`` -> (B*nW, K*K, C)."""
    B, H, W, C = x.shape
    x = x.view(B, H // window, window, W // window, window, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, C)


def window_reverse(windows: torch.Tensor, window: int, H: int,
                   W: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`: (B*nW, K*K, C) -> (B, H, W, C)."""
    C = windows.shape[-1]
    x = windows.view(-1, H // window, W // window, window, window, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, H, W, C)


def relative_position_index(window: int) -> torch.Tensor:
    """(K*K, K*K) index into the (2K-1)^2 bias table, Swin's convention."""
    coords = torch.stack(
        torch.meshgrid(torch.arange(window), torch.arange(window),
                       indexing='ij')).flatten(1)  # 2, K*K
    rel = coords[:, :, None] - coords[:, None, :]  # 2, K*K, K*K
    rel = rel + (window - 1)
    return rel[0] * (2 * window - 1) + rel[1]


def padding_attention_mask(H: int, W: int, window: int,
                           device: Optional[torch.device] = None,
                           dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Additive key mask (nW, 1, 1, K*K) that hides padded tokens.

    Every window contains at least one real row and column (the padding on
    each side is shorter than the window), so no softmax row is fully masked.
    """
    top, bottom = centred_window_padding(H, window)
    left, right = centred_window_padding(W, window)
    valid = torch.zeros(1, H + top + bottom, W + left + right, 1,
                        device=device, dtype=dtype)
    valid[:, top:top + H, left:left + W] = 1
    valid = window_partition(valid, window).squeeze(-1)  # nW, K*K
    mask = torch.zeros_like(valid).masked_fill(valid == 0,
                                               torch.finfo(dtype).min)
    return mask[:, None, None, :]


class WindowMultiHeadAttention(nn.Module):
    """Multi-head self-attention inside one window, with relative position
    bias.

    Input and output are (num_windows * B, K*K, C).  Parameter names
    (``qkv``, ``proj``, ``relative_position_bias_table``) follow mmpose so its
    checkpoints load unchanged.

    Attention runs through ``F.scaled_dot_product_attention``.  On CUDA the
    heads and the mask are laid out for its fused memory-efficient kernel
    (:mod:`.attention_utils`), which otherwise falls back to full attention
    matrices at HRFormer-T / -B's head dims; elsewhere that layout would only
    add work.
    """

    #: lay q, k, v and the mask out for the fused CUDA kernels: None on CUDA
    #: inputs only, True / False always / never (same outputs either way)
    fused_layout: Optional[bool] = None

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 window_size: int,
                 qkv_bias: bool = True,
                 attn_drop_rate: float = 0.,
                 proj_drop_rate: float = 0.,
                 with_rpe: bool = True):
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.window_size = window_size
        self.scale = (embed_dims // num_heads)**-0.5
        self.with_rpe = with_rpe
        if with_rpe:
            self.relative_position_bias_table = nn.Parameter(
                torch.zeros((2 * window_size - 1)**2, num_heads))
            # Derived from window_size: not saved, so checkpoints stay small
            # and a changed window size cannot load a stale index.
            self.register_buffer(
                'relative_position_index',
                relative_position_index(window_size), persistent=False)
        # (key, bias) of relative_position_bias(); not state, never saved
        self._bias_cache = (None, None)
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.attn_drop_rate = attn_drop_rate
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop_rate)

    def relative_position_bias(self) -> torch.Tensor:
        """(heads, K*K, K*K) bias added to the attention logits.

        Gathering it is a copy per layer and call; where no gradient can
        flow to the table (eval mode, or a frozen / no-grad table) it is
        gathered once and reused until the table changes (in place, as by
        ``load_state_dict`` or an optimiser, or by ``.to()``).
        """
        table = self.relative_position_bias_table
        cacheable = not capturing_graph() and not self.training and not (
            table.requires_grad and torch.is_grad_enabled())
        key = (table.data_ptr(), table._version, table.dtype) \
            if cacheable else None
        if key is not None and self._bias_cache[0] == key:
            return self._bias_cache[1]
        n = self.window_size**2
        bias = table[self.relative_position_index.view(-1)].view(n, n, -1)
        bias = bias.permute(2, 0, 1).contiguous()
        if key is not None:
            bias = bias.detach()
            self._bias_cache = (key, bias)
        return bias

    def attention_mask(self, batch_windows: int,
                       mask: Optional[torch.Tensor], dtype: torch.dtype,
                       aligned: bool = False) -> Optional[torch.Tensor]:
        """The additive ``attn_mask`` (B*nW or 1, heads or 1, N, N) of
        :meth:`forward`: relative position bias plus padding mask, in
        ``dtype``.  ``aligned``: stored as the fused CUDA kernels take it
        (rows padded to a multiple of 8 and sliced back), built so in the
        first place rather than copied by SDPA on every call."""
        parts = []
        if self.with_rpe:
            parts.append(self.relative_position_bias().unsqueeze(0))
        if mask is not None:
            parts.append(mask)
        if not parts:
            return None
        n = parts[0].shape[-1]
        if aligned:
            parts = [pad_last_dim(p) for p in parts]
        if mask is not None:
            parts[-1] = parts[-1].repeat(batch_windows // mask.shape[0], 1,
                                         1, 1)
        bias = parts[0] if len(parts) == 1 else parts[0] + parts[1]
        bias = bias.to(dtype)
        if bias.shape[-1] != n:
            bias = bias[..., :n]
        return aligned_attn_mask(bias) if aligned else bias

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``mask``: additive, broadcastable to (B*nW, heads, N, N), with the
        window index varying fastest over B*nW (shape (nW, 1, 1, N))."""
        BW, N, C = x.shape
        head_dim = C // self.num_heads
        fused = self.fused_layout
        if fused is None:
            fused = wants_fused_layout(x)
        qkv = self.qkv(x).view(BW, N, 3, self.num_heads, head_dim)
        if fused:
            # The memory-efficient kernel (flash takes no bias) wants a head
            # dim that is a multiple of 8 (HRFormer-T: 18, -B: 39).  Zero
            # channels add nothing to q.k and give zero output channels,
            # dropped before the projection; the scale stays the true one.
            qkv = pad_last_dim(qkv)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        bias = self.attention_mask(BW, mask, q.dtype, aligned=fused)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias,
            dropout_p=self.attn_drop_rate if self.training else 0.,
            scale=self.scale)
        if out.shape[-1] != head_dim:
            out = out[..., :head_dim]
        out = out.transpose(1, 2).reshape(BW, N, C)
        return self.proj_drop(self.proj(out))


class LocalWindowAttention(nn.Module):
    """Pad to a multiple of the window, attend inside windows, crop back.

    Input and output are channels-last maps (B, H, W, C).

    With ``with_pad_mask``, the padding mask of each input size is built
    once and kept for the :attr:`MASK_CACHE_SIZE` sizes used last
    (evaluation at many image sizes would otherwise keep one per size).
    """

    #: how many padding masks (one per input size, device and dtype) stay
    #: cached, least recently used dropped first
    MASK_CACHE_SIZE = 8

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 window_size: int = 7,
                 qkv_bias: bool = True,
                 attn_drop_rate: float = 0.,
                 proj_drop_rate: float = 0.,
                 with_rpe: bool = True,
                 with_pad_mask: bool = False):
        super().__init__()
        self.window_size = window_size
        self.with_pad_mask = with_pad_mask
        self.attn = WindowMultiHeadAttention(
            embed_dims, num_heads, window_size, qkv_bias=qkv_bias,
            attn_drop_rate=attn_drop_rate, proj_drop_rate=proj_drop_rate,
            with_rpe=with_rpe)
        # (H, W, device, dtype) -> mask, least recently used first
        self._mask_cache = OrderedDict()

    def padding_mask(self, H: int, W: int, device: torch.device,
                     dtype: torch.dtype) -> torch.Tensor:
        """:func:`padding_attention_mask`, built once per size while that
        size stays among the :attr:`MASK_CACHE_SIZE` used last."""
        key = (H, W, device, dtype)
        mask = self._mask_cache.get(key)
        if mask is None:
            mask = padding_attention_mask(H, W, self.window_size, device,
                                          dtype)
            self._mask_cache[key] = mask
            if len(self._mask_cache) > self.MASK_CACHE_SIZE:
                self._mask_cache.popitem(last=False)
        else:
            self._mask_cache.move_to_end(key)
        return mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, C = x.shape
        K = self.window_size
        top, bottom = centred_window_padding(H, K)
        left, right = centred_window_padding(W, K)
        padded = bool(top or bottom or left or right)
        if padded:
            x = F.pad(x, (0, 0, left, right, top, bottom))
        Hp, Wp = H + top + bottom, W + left + right
        mask = None
        if self.with_pad_mask and padded:
            mask = self.padding_mask(H, W, x.device, x.dtype)
        out = self.attn(window_partition(x, K), mask)
        out = window_reverse(out, K, Hp, Wp)
        if padded:
            out = out[:, top:top + H, left:left + W]
        return out
