"""Every attention of the package reaches torch's fused CUDA kernels.

HRFormer's window attention (head dims 18 / 32 / 39 for T / S / B, windows
7, 13, 15, a relative position bias and optionally a padding mask) and
HRViT's stripe attention (head dims 16 / 24 / 32, key = value, a padding
mask on the last stripe) call ``F.scaled_dot_product_attention`` on CUDA;
there it falls back to its math path (full attention matrices, upcast)
unless the memory-efficient kernel (flash attention takes no mask) accepts
the arguments.  Each layer's CUDA layout (``fused_layout``, chosen on CUDA
inputs by default) is switched on here on the CPU, every SDPA call is
intercepted, and its arguments, bf16 as under ``--amp``, are checked
against the kernels' conditions
(:func:`~hrformer_mm.models.layers.fused_sdpa_ok`); outputs are compared
in fp32 with the explicit ``softmax(q k^T * scale + bias) v``.  HRPVT's
attention is mmpose's PVT v2 backbone, not the package's.

The last test runs on a CUDA GPU only: torch itself then says which kernel
it can use.
"""
import inspect
import re
from glob import glob

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from hrformer_mm.models.backbones import HRFormer, HRViT
from hrformer_mm.models.layers import (CrossShapedStripeAttention,
                                       LocalWindowAttention,
                                       WindowMultiHeadAttention,
                                       aligned_attn_mask, fused_sdpa_ok,
                                       horizontal_stripe_attention,
                                       padding_attention_mask,
                                       stripe_padding_mask, stripe_partition,
                                       stripe_reverse)

from e2e_utils import ROOT

SDPA_ARGS = list(inspect.signature(fused_sdpa_ok).parameters)

HRFORMER_ARCHS = sorted(HRFormer.arch_zoo)
HRVIT_ARCHS = sorted(HRViT.arch_zoo)


def zoo_window_sizes() -> set:
    """The arch default and every ``window_sizes`` a config sets."""
    sizes = {HRFormer.arch_defaults['window_sizes']}
    for path in glob(f'{ROOT}/configs/**/*.py', recursive=True):
        with open(path) as f:
            sizes.update(int(n) for n in re.findall(
                r'backbone=dict\([^)]*window_sizes=(\d+)', f.read()))
    return sizes


WINDOWS = (7, 13, 15)


def test_the_tested_window_sizes_are_the_zoos():
    assert zoo_window_sizes() == set(WINDOWS)


class SDPACalls(list):
    """Records the arguments of every SDPA call (the call still runs)."""

    def __init__(self, monkeypatch):
        super().__init__()
        sdpa = F.scaled_dot_product_attention

        def recording(*args, **kwargs):
            call = dict(zip(SDPA_ARGS, args), **kwargs)
            self.append(call)
            return sdpa(*args, **kwargs)

        monkeypatch.setattr(F, 'scaled_dot_product_attention', recording)

    def verdicts(self):
        return [fused_sdpa_ok(**call) for call in self]


def assert_all_fused(calls: SDPACalls, count: int, kernel: str = None):
    assert len(calls) == count
    for call, (ok, why) in zip(calls, calls.verdicts()):
        assert call['query'].dtype == torch.bfloat16
        assert ok, why
        if kernel is not None:
            assert why == kernel


# ---------------------------------------------------------------------------
# the checker: facts of torch 2.14's CUDA kernel selection
# ---------------------------------------------------------------------------


def _qkv(head_dim, heads=2, tokens=49, dtype=torch.bfloat16):
    qkv = torch.randn(4, tokens, 3, heads, head_dim, dtype=dtype)
    return qkv.permute(2, 0, 3, 1, 4).unbind(0)


def _bias(heads=2, tokens=49, dtype=torch.bfloat16):
    return torch.randn(1, heads, tokens, tokens, dtype=dtype)


def test_checker_wants_a_head_dim_multiple_of_8_under_bf16():
    ok, why = fused_sdpa_ok(*_qkv(18), attn_mask=aligned_attn_mask(_bias()))
    assert not ok and 'head dim (query 18, value 18) not a multiple of 8' \
        in why
    assert fused_sdpa_ok(*_qkv(24),
                         attn_mask=aligned_attn_mask(_bias())) == \
        (True, 'efficient')


def test_checker_wants_a_head_dim_multiple_of_4_in_fp32():
    bias = aligned_attn_mask(_bias(dtype=torch.float32))
    assert not fused_sdpa_ok(*_qkv(18, dtype=torch.float32), bias)[0]
    assert fused_sdpa_ok(*_qkv(20, dtype=torch.float32), bias) == \
        (True, 'efficient')


def test_checker_wants_aligned_storage_offsets():
    q, k, v = _qkv(24)
    # a key starting 4 elements into its storage: a misaligned data pointer
    k = torch.randn(k.numel() + 4, dtype=k.dtype)[4:].view(k.shape)
    ok, why = fused_sdpa_ok(q, k, v, aligned_attn_mask(_bias()))
    assert not ok and why == 'key storage offset 4 not a multiple of 8'
    # HRFormer-B as mmpose lays it out: 39-channel heads, keys 78 elements
    # into the qkv projection's output
    ok, why = fused_sdpa_ok(*_qkv(39), attn_mask=aligned_attn_mask(_bias()))
    assert not ok and 'key storage offset 78 not a multiple of 8' in why


def test_checker_wants_the_mask_aligned_in_the_query_dtype():
    q, k, v = _qkv(24)
    # 49-element rows: SDPA would pad a copy of the mask on every call
    ok, why = fused_sdpa_ok(q, k, v, _bias())
    assert not ok and 'SDPA pads a copy' in why
    ok, why = fused_sdpa_ok(q, k, v,
                            aligned_attn_mask(_bias(dtype=torch.float32)))
    assert not ok and 'not the query dtype' in why
    ok, why = fused_sdpa_ok(q, k, v, torch.ones(1, 1, 1, 49,
                                                dtype=torch.bool))
    assert not ok and 'boolean attn_mask' in why


def test_checker_names_flash_without_a_mask():
    assert fused_sdpa_ok(*_qkv(24)) == (True, 'flash')
    assert fused_sdpa_ok(*_qkv(24, dtype=torch.float32)) == \
        (True, 'efficient')


def test_aligned_mask_is_a_view_of_padded_rows_with_the_same_values():
    bias = _bias(tokens=13)
    aligned = aligned_attn_mask(bias)
    assert torch.equal(aligned, bias)
    assert aligned.stride() == (2 * 13 * 16, 13 * 16, 16, 1)
    assert aligned_attn_mask(aligned) is aligned


# ---------------------------------------------------------------------------
# HRFormer: window attention
# ---------------------------------------------------------------------------


def reference_window_attention(attn: WindowMultiHeadAttention,
                               x: torch.Tensor,
                               mask: torch.Tensor = None) -> torch.Tensor:
    """softmax(q k^T * scale + bias + mask) v, then the projection."""
    BW, N, C = x.shape
    h = attn.num_heads
    q, k, v = attn.qkv(x).view(BW, N, 3, h, C // h).permute(2, 0, 3, 1, 4)
    logits = q @ k.transpose(-2, -1) * attn.scale
    if attn.with_rpe:
        logits = logits + attn.relative_position_bias()
    if mask is not None:
        logits = logits + mask.repeat(BW // mask.shape[0], 1, 1, 1)
    out = (logits.softmax(-1) @ v).transpose(1, 2).reshape(BW, N, C)
    return attn.proj(out)


def hrformer_branches(arch: str):
    """(channels, heads) of each stream of a zoo arch."""
    zoo = HRFormer.arch_zoo[arch]
    return list(zip(zoo['channels'], zoo['num_heads']))


def test_zoo_head_dims():
    head_dims = {arch: {c // h for c, h in hrformer_branches(arch)}
                 for arch in HRFORMER_ARCHS}
    assert head_dims == dict(base={39}, small={32}, tiny={18})


def _window_layer(channels, heads, window, with_pad_mask, fused_layout):
    layer = LocalWindowAttention(channels, heads, window,
                                 with_pad_mask=with_pad_mask)
    nn.init.normal_(layer.attn.relative_position_bias_table, std=1.)
    layer.attn.fused_layout = fused_layout
    return layer


@pytest.mark.parametrize('with_pad_mask', [False, True])
@pytest.mark.parametrize('window', WINDOWS)
@pytest.mark.parametrize('arch', HRFORMER_ARCHS)
def test_window_attention_calls_are_fused_eligible_under_bf16(
        monkeypatch, arch, window, with_pad_mask):
    """Inference and training (dropout on the attention weights, the bias
    table learning), on a map that pads both axes."""
    for channels, heads in hrformer_branches(arch):
        layer = _window_layer(channels, heads, window, with_pad_mask, True)
        layer.attn.attn_drop_rate = 0.1
        x = torch.randn(2, window + 3, window - 2, channels)
        for training in (False, True):
            calls = SDPACalls(monkeypatch)
            with torch.autocast('cpu', dtype=torch.bfloat16):
                out = layer.train(training)(x)
            assert_all_fused(calls, 1)
            assert (calls[0]['dropout_p'] > 0) == training
            if training:
                out.float().sum().backward()
            monkeypatch.undo()


def test_window_attention_picks_the_fused_layout_on_cuda_tensors(
        monkeypatch):
    """Fake CUDA tensors (no GPU needed): the default layout on CUDA is
    the fused one, HRFormer-B's 39-channel heads padded to 40."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with FakeTensorMode(), torch.device('cuda'):
            layer = LocalWindowAttention(78, 2, 7, with_pad_mask=True)
            calls = SDPACalls(monkeypatch)
            layer(torch.randn(2, 10, 9, 78))
    finally:
        torch.set_default_dtype(default)
    assert calls[0]['query'].is_cuda
    assert calls[0]['query'].shape[-1] == 40
    assert_all_fused(calls, 1)


def test_window_attention_keeps_the_plain_layout_on_the_cpu(monkeypatch):
    """On the CPU, padding would only add work: head dim 39 as it is."""
    layer = LocalWindowAttention(78, 2, 7)
    calls = SDPACalls(monkeypatch)
    layer(torch.randn(1, 7, 7, 78))
    assert calls[0]['query'].shape[-1] == 39


@pytest.mark.parametrize('with_pad_mask', [False, True])
@pytest.mark.parametrize('window', WINDOWS)
@pytest.mark.parametrize('arch', HRFORMER_ARCHS)
def test_window_attention_outputs_equal_the_explicit_softmax(
        arch, window, with_pad_mask):
    """fp32, both layouts: within 1e-6 of softmax(q k^T * scale + bias) v
    and of each other (outputs of magnitude ~1)."""
    torch.manual_seed(0)
    # the windows of a (window + 3) x (window - 2) map: 2 x 1 of them
    mask = padding_attention_mask(window + 3, window - 2, window) \
        if with_pad_mask else None
    for channels, heads in hrformer_branches(arch):
        attn = _window_layer(channels, heads, window, with_pad_mask,
                             False).attn
        x = torch.randn(2 * 2, window**2, channels)
        with torch.no_grad():
            plain = attn(x, mask)
            attn.fused_layout = True
            fused = attn(x, mask)
            ref = reference_window_attention(attn, x, mask)
        torch.testing.assert_close(fused, plain, rtol=0, atol=1e-6)
        torch.testing.assert_close(plain, ref, rtol=0, atol=1e-6)
        torch.testing.assert_close(fused, ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize('arch', HRFORMER_ARCHS)
def test_fused_layout_gives_the_same_gradients_and_dropout(arch):
    """Training with dropout on the attention weights: the same random
    draws and the same gradients in both layouts (fp32, within 1e-6)."""
    channels, heads = hrformer_branches(arch)[0]
    layer = _window_layer(channels, heads, 7, True, False)
    layer.attn.attn_drop_rate = 0.2
    x = torch.randn(2, 9, 8, channels)
    grads = []
    for fused in (False, True):
        layer.zero_grad()
        layer.attn.fused_layout = fused
        torch.manual_seed(1)
        out = layer.train()(x)
        out.square().mean().backward()
        grads.append({n: p.grad.clone() for n, p in layer.named_parameters()})
        grads[-1]['out'] = out.detach()
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], rtol=0,
                                   atol=1e-6, msg=name)


def test_every_hrformer_attention_call_is_fused_eligible(monkeypatch):
    """The whole HRFormer-T backbone (18-channel heads) with the padding
    mask, training under bf16 autocast: one eligible call per attention."""
    model = HRFormer('tiny', with_pad_mask=True, drop_path_rate=0.1)
    layers = [m for m in model.modules()
              if isinstance(m, WindowMultiHeadAttention)]
    for m in layers:
        m.fused_layout = True
    calls = SDPACalls(monkeypatch)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        outs = model.train()(torch.randn(1, 3, 72, 40))
    sum(o.float().mean() for o in outs).backward()
    assert_all_fused(calls, len(layers))


# ---------------------------------------------------------------------------
# HRViT: cross-shaped stripe attention
# ---------------------------------------------------------------------------


def reference_stripe_attention(q, v, stripe_width, num_heads, scale,
                               with_pad_mask=True, pad_value=0.):
    """The public code's order: (q v^T) * scale, -inf on the padded keys of
    the last stripe, softmax, @ v."""
    B, H, W, C = q.shape
    pad = -H % stripe_width
    mask = None
    if pad:
        q, v = (F.pad(t, (0, 0, 0, 0, 0, pad), value=pad_value)
                for t in (q, v))
        if with_pad_mask:
            mask = stripe_padding_mask(H, H + pad, stripe_width, W)
    q, v = (stripe_partition(t, stripe_width, num_heads) for t in (q, v))
    attn = q.matmul(v.transpose(-2, -1)).mul(scale)
    if mask is not None:
        attn = attn.masked_fill(~mask, float('-inf'))
    out = attn.softmax(dim=-1).matmul(v)
    return stripe_reverse(out, stripe_width, W)[:, :H]


def hrvit_branches(arch: str):
    """(channels, head_dim, stripe width) of each stream of a zoo arch."""
    zoo = HRViT.arch_zoo[arch]
    widths = HRViT.arch_defaults['stripe_widths']
    return [(c, zoo['head_dim'], ws) for c, ws in zip(zoo['channels'],
                                                       widths)]


# one map the stripes divide, one they do not (7 rows, 10 columns: both
# halves pad where the stripe width is 2 or 7)
STRIPE_MAPS = [(14, 14), (7, 10)]


@pytest.mark.parametrize('size', STRIPE_MAPS)
@pytest.mark.parametrize('arch', HRVIT_ARCHS)
def test_stripe_attention_calls_are_fused_eligible_under_bf16(
        monkeypatch, arch, size):
    for channels, head_dim, ws in hrvit_branches(arch):
        layer = CrossShapedStripeAttention(channels, head_dim, ws)
        layer.fused_layout = True
        x = torch.randn(2, *size, channels)
        for training in (False, True):
            calls = SDPACalls(monkeypatch)
            with torch.autocast('cpu', dtype=torch.bfloat16):
                out = layer.train(training)(x)
            # one call per direction; without padding no mask: flash
            assert_all_fused(calls, 2)
            for call, (_, kernel) in zip(calls, calls.verdicts()):
                masked = call['attn_mask'] is not None
                assert kernel == ('efficient' if masked else 'flash')
            if training:
                out.float().sum().backward()
            monkeypatch.undo()


def test_every_hrvit_attention_call_is_fused_eligible(monkeypatch):
    """HRViT-b1 on a map whose low-resolution streams pad (2 x 3 at 1/32),
    training under bf16 autocast: two eligible calls per attention."""
    model = HRViT('b1', drop_path_rate=0.1)
    layers = [m for m in model.modules()
              if isinstance(m, CrossShapedStripeAttention)]
    for m in layers:
        m.fused_layout = True
    n = len(layers)
    calls = SDPACalls(monkeypatch)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        outs = model.train()(torch.randn(2, 3, 64, 96))
    sum(o.float().mean() for o in outs).backward()
    assert_all_fused(calls, 2 * n)
    assert any(c['attn_mask'] is not None for c in calls)


def test_stripe_attention_picks_sdpa_on_cuda_tensors(monkeypatch):
    """Fake CUDA tensors (no GPU needed): on CUDA the stripes go through
    SDPA by default, padded ones with the aligned additive mask."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with FakeTensorMode(), torch.device('cuda'):
            layer = CrossShapedStripeAttention(240, 24, 7)
            calls = SDPACalls(monkeypatch)
            layer(torch.randn(2, 7, 10, 240))
    finally:
        torch.set_default_dtype(default)
    assert calls[0]['query'].is_cuda
    assert_all_fused(calls, 2)
    assert calls[1]['attn_mask'] is not None  # 10 columns, stripes of 7


def test_stripe_attention_keeps_the_public_order_on_the_cpu(monkeypatch):
    """On the CPU the public code's matmul / softmax / matmul, bit for bit
    (its parity check), and no SDPA call."""
    torch.manual_seed(0)
    q, v = torch.randn(2, 2, 7, 10, 48).unbind(0)
    calls = SDPACalls(monkeypatch)
    assert torch.equal(horizontal_stripe_attention(q, v, 7, 2, 0.2),
                       reference_stripe_attention(q, v, 7, 2, 0.2))
    assert not calls


# Per call, SDPA's fp32 kernels round differently from the public code's
# matmul / softmax / matmul: up to ~6 float32 ulps of the largest output
# (1.4e-6 at outputs of magnitude 3 from unit-normal q and v), so the layer
# is held to 2e-6.  Over the 20-odd blocks of a backbone the differences
# add up: 3e-6 at outputs of magnitude 6 here (random weights), 9.3e-6 for
# HRViT-b2 against the public code (tools/analysis/parity_hrvit.py, its
# seeded weights, SDPA forced); hence 1e-5.
STRIPE_ATOL = 2e-6
HRVIT_ATOL = 1e-5


@pytest.mark.parametrize('with_pad_mask', [False, True])
@pytest.mark.parametrize('size', STRIPE_MAPS)
@pytest.mark.parametrize('arch', HRVIT_ARCHS)
def test_stripe_attention_through_sdpa_equals_the_public_order(
        arch, size, with_pad_mask):
    torch.manual_seed(0)
    for channels, head_dim, ws in hrvit_branches(arch):
        half = channels // 2
        head_dim = min(head_dim, half)
        q, v = torch.randn(2, 2, *size, half).unbind(0)
        args = (ws, half // head_dim, head_dim**-0.5, with_pad_mask, 5.)
        torch.testing.assert_close(
            horizontal_stripe_attention(q, v, *args, fused=True),
            reference_stripe_attention(q, v, *args), rtol=0,
            atol=STRIPE_ATOL)


@pytest.mark.parametrize('arch', HRVIT_ARCHS)
def test_hrvit_outputs_through_sdpa_equal_the_public_order(arch):
    """Every attention output switched on (its norm's weight set to 1)."""
    torch.manual_seed(0)
    model = HRViT(arch).eval()
    layers = [m for m in model.modules()
              if isinstance(m, CrossShapedStripeAttention)]
    for m in layers:
        nn.init.ones_(m.norm.weight)
    x = torch.randn(1, 3, 64, 96)
    outs = []
    for fused in (False, True):
        for m in layers:
            m.fused_layout = fused
        with torch.no_grad():
            outs.append(model(x))
    for plain, fused in zip(*outs):
        torch.testing.assert_close(fused, plain, rtol=0, atol=HRVIT_ATOL)


# ---------------------------------------------------------------------------
# on a CUDA GPU: torch's own verdict
# ---------------------------------------------------------------------------


def _cuda_cases():
    for arch in HRFORMER_ARCHS:
        for window in WINDOWS:
            for channels, heads in hrformer_branches(arch):
                yield f'hrformer-{arch}-w{window}-c{channels}', \
                    lambda c=channels, h=heads, w=window: (
                        LocalWindowAttention(c, h, w, with_pad_mask=True),
                        (2, w + 3, w - 2, c))
    for arch in HRVIT_ARCHS:
        for channels, head_dim, ws in hrvit_branches(arch):
            yield f'hrvit-{arch}-c{channels}', \
                lambda c=channels, d=head_dim, w=ws: (
                    CrossShapedStripeAttention(c, d, w), (2, 7, 10, c))


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_every_attention_runs_the_memory_efficient_kernel_on_cuda(
        monkeypatch):
    """torch's own check (sdp_utils.cpp, with the GPU's properties) accepts
    every recorded call, agreeing with ``fused_sdpa_ok``; with only the
    memory-efficient backend allowed forward and backward run (SDPA raises
    where it cannot use it); and no call pads a copy of its mask (a pad op
    inside SDPA's own profiler record)."""
    from torch.backends.cuda import SDPAParams, can_use_efficient_attention
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.profiler import ProfilerActivity, profile
    for name, make in _cuda_cases():
        layer, shape = make()
        layer = layer.cuda().train()  # default layout: CUDA's
        x = torch.randn(*shape, device='cuda')
        calls = SDPACalls(monkeypatch)
        with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION]), \
                torch.autocast('cuda', dtype=torch.bfloat16), \
                profile(activities=[ProfilerActivity.CPU]) as prof:
            out = layer(x)
        out.float().square().mean().backward()
        monkeypatch.undo()
        assert calls, name
        for call in calls:
            params = SDPAParams(call['query'], call['key'], call['value'],
                                call.get('attn_mask'),
                                call.get('dropout_p', 0.), False, False)
            assert can_use_efficient_attention(params, True), name
            assert fused_sdpa_ok(**call)[0], name
        records = [e for e in prof.events()
                   if e.name == 'aten::scaled_dot_product_attention']
        assert len(records) == len(calls), name
        for sdpa in records:
            inside = _descendants(sdpa)
            assert 'aten::_scaled_dot_product_efficient_attention' in \
                inside, name
            assert not inside & {'aten::pad', 'aten::constant_pad_nd'}, (
                name, 'SDPA copied the mask into an aligned one')


def _descendants(event) -> set:
    names = set()
    for child in event.cpu_children:
        names.add(child.name)
        names |= _descendants(child)
    return names
