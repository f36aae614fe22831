"""HRViT's cross-shaped stripe attention (HRViTAttn, Gu et al., CVPR 2022).

Half of the *channels* attend within horizontal stripes (``ws`` rows x full
width), the other half within vertical stripes (full height x ``ws``
columns).  One linear makes queries and values; the key is the value.  A
parallel path (Hardswish, 3x3 depthwise conv) on the unpadded value is added
to the attention output, followed by Hardswish, a projection and a
BatchNorm whose weight and bias start at zero, so that every block starts as
identity + diversity-enhanced shortcut.

Stripes that do not divide the map are zero-padded at the bottom (horizontal)
or right (vertical) *after* the projection.  The reference adds -100 to the
logits of the padded keys of the last stripe; with zero padding that weight
is below float32 resolution, so hiding those keys outright gives the same
numbers and, unlike -100, holds whatever the padded tokens contain.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer

from .attention_utils import aligned_attn_mask, wants_fused_layout

__all__ = ['stripe_partition', 'stripe_reverse', 'stripe_padding_mask',
           'stripe_attention_mask', 'horizontal_stripe_attention',
           'CrossShapedStripeAttention']


def stripe_partition(x: torch.Tensor, stripe_width: int,
                     num_heads: int) -> torch.Tensor:
    """(B, H, W, C) with H a multiple of ``stripe_width`` ->
    (B, H // ws, heads, ws * W, C // heads): one row of tokens per stripe,
    in row-major order."""
    B, H, W, C = x.shape
    x = x.reshape(B, H // stripe_width, stripe_width, W, num_heads,
                  C // num_heads)
    return x.permute(0, 1, 4, 2, 3, 5).flatten(3, 4)


def stripe_reverse(x: torch.Tensor, stripe_width: int,
                   width: int) -> torch.Tensor:
    """Inverse of :func:`stripe_partition`: -> (B, H, W, C)."""
    B, num_stripes, heads, _, d = x.shape
    x = x.reshape(B, num_stripes, heads, stripe_width, width, d)
    return x.permute(0, 1, 3, 4, 2, 5).reshape(
        B, num_stripes * stripe_width, width, heads * d)


def stripe_padding_mask(height: int, padded_height: int, stripe_width: int,
                        width: int,
                        device: torch.device = None) -> torch.Tensor:
    """Boolean key mask (num_stripes, 1, 1, ws * W), True for real tokens.

    Padding is at the bottom, so only the last stripe has padded rows."""
    num_stripes = padded_height // stripe_width
    mask = torch.ones(num_stripes, stripe_width, width, dtype=torch.bool,
                      device=device)
    mask[-1, stripe_width - (padded_height - height):] = False
    return mask.reshape(num_stripes, 1, 1, stripe_width * width)


def stripe_attention_mask(height: int, padded_height: int,
                          stripe_width: int, width: int, batch: int,
                          dtype: torch.dtype,
                          device: torch.device = None) -> torch.Tensor:
    """Additive key mask (batch * num_stripes, 1, 1, ws * W): 0 for real
    tokens, -inf for padded ones, laid out as the fused CUDA kernels take
    it (:func:`~.attention_utils.aligned_attn_mask`)."""
    keep = stripe_padding_mask(height, padded_height, stripe_width, width,
                               device)
    mask = torch.zeros(keep.shape, dtype=dtype, device=device).masked_fill(
        ~keep, float('-inf'))
    return aligned_attn_mask(mask.repeat(batch, 1, 1, 1))


def horizontal_stripe_attention(q: torch.Tensor,
                                v: torch.Tensor,
                                stripe_width: int,
                                num_heads: int,
                                scale: float,
                                with_pad_mask: bool = True,
                                pad_value: float = 0.,
                                fused: Optional[bool] = None) -> torch.Tensor:
    """Multi-head attention within horizontal stripes; the key is ``v``.

    ``q``, ``v``: (B, H, W, C).  Rows are padded at the bottom with
    ``pad_value`` to a multiple of ``stripe_width`` and cropped afterwards.
    For vertical stripes pass the maps transposed (B, W, H, C).

    ``fused``: through ``F.scaled_dot_product_attention``, with arguments
    torch's fused CUDA kernels take (None: for CUDA inputs).  Otherwise the
    public code's order of operations, bit-identical to it on the CPU;
    SDPA's kernels round differently, by a few float32 ulps per call.
    """
    B, H, W, C = q.shape
    if fused is None:
        fused = wants_fused_layout(q)
    pad = -H % stripe_width
    masked = bool(pad) and with_pad_mask
    if pad:
        q, v = (F.pad(t, (0, 0, 0, 0, 0, pad), value=pad_value)
                for t in (q, v))
    if fused:
        # one batch entry per image and stripe: the 4-D layout the fused
        # kernels take (head dims 16 / 24 / 32 need no padding for them)
        mask = stripe_attention_mask(H, H + pad, stripe_width, W, B,
                                     q.dtype, q.device) if masked else None
        q, v = (stripe_partition(t, stripe_width, num_heads).flatten(0, 1)
                for t in (q, v))
        out = F.scaled_dot_product_attention(q, v, v, attn_mask=mask,
                                             scale=scale)
        out = out.unflatten(0, (B, -1))
    else:
        q, v = (stripe_partition(t, stripe_width, num_heads)
                for t in (q, v))
        attn = q.matmul(v.transpose(-2, -1)).mul(scale)
        if masked:
            mask = stripe_padding_mask(H, H + pad, stripe_width, W, q.device)
            attn = attn.masked_fill(~mask, float('-inf'))
        out = attn.softmax(dim=-1).matmul(v)
    return stripe_reverse(out, stripe_width, W)[:, :H]


class CrossShapedStripeAttention(nn.Module):
    """HRViTAttn.  Takes and returns channels-last maps (B, H, W, C).

    Args:
        embed_dims: channels (the stream's width, named as in
            :class:`~hrformer_mm.models.layers.LocalWindowAttention`); the
            first half attends horizontally, the second vertically.
        head_dim: channels per head; a half narrower than that forms one
            head of the half's width (HRViT-b1's first branch: 32 channels,
            one 16-channel head per direction, scale 16 ** -0.5).
        stripe_width: ``ws`` (1, 2, 7, 7 for the four HRViT branches).
        with_pad_mask: hide the padded keys of the last stripe (the
            reference does, with -100).  Off, they take part as zeros.
        norm_cfg: the normalisation over the tokens after the projection.
        pad_value: what the padded query / value tokens hold: zeros, as in
            the reference; another value shows that ``with_pad_mask`` hides
            them.
    """

    #: run the stripes through SDPA laid out for the fused CUDA kernels
    #: (:func:`horizontal_stripe_attention`): None on CUDA inputs only,
    #: True / False always / never
    fused_layout: Optional[bool] = None

    def __init__(self,
                 embed_dims: int,
                 head_dim: int = 32,
                 stripe_width: int = 7,
                 with_pad_mask: bool = True,
                 norm_cfg: dict = dict(type='BN'),
                 pad_value: float = 0.):
        super().__init__()
        if embed_dims % 2:
            raise ValueError(f'stripe attention splits the channels in '
                             f'halves; got an odd width {embed_dims}')
        self.embed_dims = embed_dims
        half = embed_dims // 2
        self.head_dim = min(head_dim, half)
        if half % self.head_dim:
            raise ValueError(f'half width {half} is not a multiple of '
                             f'head_dim {self.head_dim}')
        self.num_heads = half // self.head_dim  # per direction
        self.scale = self.head_dim**-0.5
        self.stripe_width = stripe_width
        self.with_pad_mask = with_pad_mask
        self.pad_value = float(pad_value)
        self.qv = nn.Linear(embed_dims, 2 * embed_dims)
        self.value_conv = nn.Conv2d(embed_dims, embed_dims, 3, padding=1,
                                    groups=embed_dims)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1]
        self.init_weights()

    def init_weights(self) -> None:
        """The output norm starts at zero: the block is identity + DES."""
        nn.init.zeros_(self.norm.weight)
        nn.init.zeros_(self.norm.bias)

    def _directions(self, q: torch.Tensor, v: torch.Tensor
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        half = q.shape[-1] // 2
        kwargs = dict(stripe_width=self.stripe_width,
                      num_heads=self.num_heads, scale=self.scale,
                      with_pad_mask=self.with_pad_mask,
                      pad_value=self.pad_value, fused=self.fused_layout)
        horizontal = horizontal_stripe_attention(q[..., :half],
                                                 v[..., :half], **kwargs)
        vertical = horizontal_stripe_attention(
            q[..., half:].transpose(1, 2), v[..., half:].transpose(1, 2),
            **kwargs).transpose(1, 2)
        return horizontal, vertical

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, v = self.qv(x).chunk(2, dim=-1)
        conv = self.value_conv(F.hardswish(v.permute(0, 3, 1, 2)))
        out = torch.cat(self._directions(q, v), dim=-1)
        out = F.hardswish(out + conv.permute(0, 2, 3, 1))
        out = self.proj(out)
        # BatchNorm over all B * H * W tokens
        out = self.norm(out.permute(0, 3, 1, 2))
        return out.permute(0, 2, 3, 1)

    def attention_macs(self, x: torch.Tensor) -> int:
        """Multiply-accumulates of ``q @ k^T`` and ``attn @ v`` for input
        ``x`` (B, H, W, C), padded stripes included (for complexity
        counting)."""
        B, H, W, C = x.shape
        ws = self.stripe_width
        macs = 0
        for rows, cols in ((H, W), (W, H)):  # horizontal, then vertical
            padded = -(-rows // ws) * ws
            macs += 2 * B * (padded // ws) * (ws * cols)**2 * (C // 2)
        return macs

    def extra_repr(self) -> str:
        return (f'heads_per_direction={self.num_heads}, '
                f'head_dim={self.head_dim}, stripe_width={self.stripe_width}, '
                f'with_pad_mask={self.with_pad_mask}')
