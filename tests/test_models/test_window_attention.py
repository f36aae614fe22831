"""Local-window attention: partitioning, centred padding, relative position
bias and padding masks."""
import pytest
import torch
import torch.nn.functional as F

from hrformer_mm.models.layers import (LocalWindowAttention,
                                       centred_window_padding,
                                       relative_position_index,
                                       window_partition, window_reverse)


def test_window_partition_then_reverse_is_identity():
    x = torch.randn(2, 14, 21, 5)
    windows = window_partition(x, 7)
    assert windows.shape == (2 * 2 * 3, 49, 5)
    assert torch.equal(window_reverse(windows, 7, 14, 21), x)


def test_window_partition_groups_each_window_row_major():
    x = torch.arange(4 * 4, dtype=torch.float32).view(1, 4, 4, 1)
    windows = window_partition(x, 2).squeeze(-1)
    assert windows.tolist() == [[0, 1, 4, 5], [2, 3, 6, 7],
                                [8, 9, 12, 13], [10, 11, 14, 15]]


@pytest.mark.parametrize('size,window,expected', [
    (64, 7, (3, 3)), (48, 7, (0, 1)), (13, 7, (0, 1)), (10, 7, (2, 2)),
    (14, 7, (0, 0)), (8, 7, (3, 3))
])
def test_padding_is_centred_with_the_odd_pixel_after(size, window, expected):
    assert centred_window_padding(size, window) == expected


def test_relative_position_index_matches_mmpose_convention():
    mmpose_hrformer = pytest.importorskip('mmpose.models.backbones.hrformer')
    ref = mmpose_hrformer.WindowMSA(8, 2, (7, 7))
    assert torch.equal(relative_position_index(7),
                       ref.relative_position_index)


def test_relative_position_index_is_symmetric_offset():
    idx = relative_position_index(3)
    # token 0 is (0,0), token 8 is (2,2): offsets (-2,-2) and (+2,+2) hit the
    # two opposite corners of the 5x5 table
    assert idx[0, 8].item() == 0 and idx[8, 0].item() == 24
    assert (idx.diagonal() == 12).all()  # zero offset is the table centre


def _attention_on_real_tokens(module, x):
    """Reference: full attention over the unpadded tokens (no bias)."""
    B, H, W, C = x.shape
    attn = module.attn
    tokens = x.reshape(B, H * W, C)
    qkv = attn.qkv(tokens).view(B, H * W, 3, attn.num_heads, -1)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
    out = F.scaled_dot_product_attention(q, k, v, scale=attn.scale)
    return attn.proj(out.transpose(1, 2).reshape(B, H * W, C)).view(
        B, H, W, C)


@pytest.mark.parametrize('H,W', [(5, 5), (7, 4), (3, 7)])
def test_pad_mask_equals_attention_over_real_tokens(H, W):
    """One window with padding on either or both axes: masked attention must
    ignore the padded tokens entirely.  (mmpose masks only when both axes
    are padded, so its (7, 4) and (3, 7) cases attend to zeros.)"""
    torch.manual_seed(0)
    m = LocalWindowAttention(8, 2, window_size=7, with_rpe=False,
                             with_pad_mask=True).eval()
    x = torch.randn(2, H, W, 8)
    with torch.no_grad():
        assert torch.allclose(m(x), _attention_on_real_tokens(m, x),
                              atol=1e-5)


def test_without_pad_mask_padded_zeros_change_the_result():
    torch.manual_seed(0)
    m = LocalWindowAttention(8, 2, window_size=7, with_rpe=False).eval()
    x = torch.randn(1, 7, 4, 8)
    with torch.no_grad():
        diff = (m(x) - _attention_on_real_tokens(m, x)).abs().max()
    assert diff > 1e-3


def test_attention_output_has_input_shape_for_unaligned_sizes():
    m = LocalWindowAttention(16, 4, window_size=7).eval()
    x = torch.randn(2, 17, 11, 16)
    assert m(x).shape == x.shape


def test_relative_position_bias_changes_the_output():
    torch.manual_seed(0)
    m = LocalWindowAttention(8, 2, window_size=7).eval()
    x = torch.randn(1, 7, 7, 8)
    with torch.no_grad():
        before = m(x)
        m.attn.relative_position_bias_table.normal_(std=1.0)
        after = m(x)
    assert (before - after).abs().max() > 1e-3


def test_padding_mask_cache_keeps_only_the_sizes_used_last():
    """Evaluating at many image sizes must not keep a mask per size."""
    m = LocalWindowAttention(8, 2, 7, with_pad_mask=True).eval()
    limit = LocalWindowAttention.MASK_CACHE_SIZE
    sizes = [(8 + i, 9) for i in range(limit + 3)]
    with torch.no_grad():
        m(torch.randn(1, *sizes[0], 8))
        first = m._mask_cache[(*sizes[0], torch.device('cpu'),
                               torch.float32)]
        for i, size in enumerate(sizes[1:]):
            m(torch.randn(1, *size, 8))
            if i < limit - 2:  # sizes[0] used again: the latest
                m(torch.randn(1, *sizes[0], 8))
    assert len(m._mask_cache) == limit
    keys = [key[:2] for key in m._mask_cache]
    assert sizes[0] in keys and sizes[1] not in keys
    assert keys[-1] == sizes[-1]
    # a kept size reuses its mask
    again = m.padding_mask(*sizes[0], torch.device('cpu'), torch.float32)
    assert again is first
