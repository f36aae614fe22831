"""Inference-speed paths of the HRFormer backbone compute what the plain
eval-mode model computes: BatchNorm folding (deploy mode), torch.compile,
the cached relative position bias and padding mask, and the
channels-last blocks."""
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from hrformer_mm.models.backbones import HRFormer
from hrformer_mm.models.layers import LocalWindowAttention

TINY_ARCH = dict(channels=(8, 16, 32, 64), num_heads=(1, 2, 4, 8),
                 num_modules=(1, 1, 1), num_blocks=1)


def _randomised(arch=TINY_ARCH, **kwargs):
    """Random BN statistics and affine parameters, so that a BN folded
    wrongly (or into the wrong conv) changes the output."""
    torch.manual_seed(0)
    m = HRFormer(arch, **kwargs)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, _BatchNorm):
                mod.running_mean.normal_(std=0.1)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.normal_(1, 0.1)
                mod.bias.normal_(std=0.1)
            elif isinstance(mod, torch.nn.Conv2d) and mod.bias is not None:
                mod.bias.normal_(std=0.1)
    return m.eval()


def test_switch_to_deploy_folds_every_batchnorm_and_keeps_outputs():
    m = _randomised()
    num_bn = sum(isinstance(x, _BatchNorm) for x in m.modules())
    x = torch.randn(2, 3, 80, 72)  # not a multiple of 7 * 4: padding
    with torch.no_grad():
        expected = m(x)
        m.switch_to_deploy()
        got = m(x)
    assert not any(isinstance(x, _BatchNorm) for x in m.modules())
    # stem 2, stage 1 (2 bottlenecks x 3 + downsample), transitions,
    # fusion and 3 per FFN: all of them, and each became an Identity
    assert num_bn > 40
    assert sum(type(x) is torch.nn.Identity for x in m.modules()) >= num_bn
    for e, g in zip(expected, got):
        assert (e - g).abs().max().item() < 1e-4


def test_deployed_model_refuses_to_train():
    m = _randomised().switch_to_deploy()
    with pytest.raises(RuntimeError, match='deploy'):
        m.train()


def test_channels_last_blocks_return_nchw_contiguous_streams():
    """Each branch hands the fusion a plain NCHW tensor (mmpose's layout):
    the parity tests rely on the fusion convolutions' rounding."""
    m = _randomised()
    with torch.no_grad():
        feats = m(torch.randn(1, 3, 64, 64))
    assert all(f.is_contiguous() for f in feats)


def test_relative_position_bias_is_cached_in_eval_and_follows_the_table():
    attn = LocalWindowAttention(8, 2, 7).attn.eval()
    with torch.no_grad():
        first = attn.relative_position_bias()
        assert attn.relative_position_bias() is first
        attn.relative_position_bias_table.add_(1.0)  # e.g. load_state_dict
        second = attn.relative_position_bias()
    assert second is not first
    assert torch.allclose(second, first + 1.0)


def test_relative_position_bias_is_not_cached_where_it_needs_gradients():
    attn = LocalWindowAttention(8, 2, 7).attn.train()
    bias = attn.relative_position_bias()
    assert bias.requires_grad and attn._bias_cache[0] is None
    attn.eval()  # eval mode but gradients on: fine-tuning through eval
    assert attn.relative_position_bias().requires_grad


def test_padding_mask_is_built_once_per_size():
    m = LocalWindowAttention(8, 2, 7, with_pad_mask=True).eval()
    with torch.no_grad():
        m(torch.randn(1, 10, 12, 8))
        m(torch.randn(2, 10, 12, 8))
        m(torch.randn(1, 9, 12, 8))
    assert len(m._mask_cache) == 2


@pytest.mark.parametrize('deployed', [False, True])
@pytest.mark.slow
def test_torch_compile_gives_the_eager_outputs_without_graph_breaks(
        deployed):
    """Dynamo captures the whole backbone as one graph (fullgraph=True
    raises on a graph break), deployed too: the conv + activation kernels
    of deploy mode step aside for the compiler (standard operators).  The
    ``aot_eager`` backend keeps this test at seconds on 2 CPU cores; the
    inductor backend is timed by tools/analysis/benchmark.py --variants
    ...+compile (docs/benchmarks.md)."""
    m = _randomised()
    if deployed:
        assert m.switch_to_deploy().num_fused_activations > 0
    x = torch.randn(1, 3, 64, 64)
    compiled = torch.compile(m, backend='aot_eager', fullgraph=True)
    with torch.no_grad():
        expected, got = m(x), compiled(x)
    for e, g in zip(expected, got):
        assert (e - g).abs().max().item() < 1e-4


@pytest.mark.parametrize('task', ['pose', 'seg'])
@pytest.mark.slow
def test_torch_compile_of_whole_pose_and_seg_models(tmp_path, task):
    """The full models (backbone, neck, heads; the tensor forward that
    mmpose / mmseg run inside predict and loss), deployed, compile and
    give the eager outputs."""
    from e2e_utils import pose_config, seg_config
    from hrformer_mm.deploy import build_model
    make = pose_config if task == 'pose' else seg_config
    model = build_model(make(tmp_path, str(tmp_path / 'no_data')), 'none')
    model.backbone.switch_to_deploy()
    x = torch.randn(2, 3, 64, 56)
    compiled = torch.compile(model._forward, backend='aot_eager')
    with torch.no_grad():
        expected, got = model._forward(x), compiled(x)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    got = got if isinstance(got, (list, tuple)) else [got]
    assert len(expected) == len(got)
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        assert (e - g).abs().max().item() < 1e-4


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_half_precision_autocast_attention_stays_finite_and_close_to_fp32(
        dtype):
    """Large logits (x 30 the usual scale) would overflow a half-precision
    softmax done naively; the fused attention kernel accumulates in fp32."""
    torch.manual_seed(0)
    m = LocalWindowAttention(32, 2, 7).eval()
    with torch.no_grad():
        m.attn.qkv.weight.mul_(30)
        m.attn.relative_position_bias_table.normal_(std=1.0)
        x = torch.randn(2, 14, 14, 32)
        expected = m(x)
        with torch.autocast('cpu', dtype=dtype):
            got = m(x)
    assert got.dtype == dtype and torch.isfinite(got).all()
    rel = (got.float() - expected).norm() / expected.norm()
    assert rel < 0.05
