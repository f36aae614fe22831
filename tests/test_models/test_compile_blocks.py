"""The ``compile_cfg`` fast path: each repeated block compiled on its own,
blocks of one shape sharing one compiled graph, outputs and gradients those
of the eager model, switched on from the config alone.

The compiler backends here are a graph-counting pass-through (what dynamo
captures, run as captured) and ``aot_eager`` (adds the autograd tracing
inductor uses): seconds on 2 CPU cores.  Inductor and CUDA graphs are
exercised on the GPU (tests/test_gpu.py) and timed by
tools/analysis/benchmark.py."""
import pytest
import torch
from mmcv.cnn.bricks import DropPath as MMCVDropPath

from hrformer_mm.models.backbones import HRFormer, HRNet, HRViT
from hrformer_mm.models.backbones.base import RECOMPILE_LIMIT
from hrformer_mm.models.backbones.hrformer import HRFormerBlock
from hrformer_mm.models.layers import DropPath

from e2e_utils import PYTHON, pose_config, run


class CountingBackend:
    """A torch.compile backend that runs the captured graph as is and
    counts the graphs it was given."""

    def __init__(self):
        self.graphs = 0

    def __call__(self, gm, example_inputs):
        self.graphs += 1
        return gm.forward


@pytest.mark.parametrize('rate', [0., 0.1, 0.45])
def test_drop_path_draws_and_computes_what_mmcv_does(rate):
    x = torch.randn(64, 5, 3, 2)
    ours, ref = DropPath(rate), MMCVDropPath(rate)
    torch.manual_seed(3)
    expected = ref(x)
    after_ref = torch.rand(1)
    torch.manual_seed(3)
    got = ours(x)
    assert torch.equal(got, expected)
    assert torch.equal(torch.rand(1), after_ref)  # same random draws
    if rate:
        dropped = (got == 0).flatten(1).all(1)
        assert 0 < dropped.sum() < 64
        assert torch.allclose(got[~dropped], x[~dropped] / (1 - rate))
    assert torch.equal(ours.eval()(x), x)


def test_drop_path_rejects_a_rate_of_one():
    with pytest.raises(ValueError, match=r'drop_prob must be in \[0, 1\)'):
        DropPath(1.)


def _pair(cls, arch, backend, **kwargs):
    torch.manual_seed(0)
    eager = cls(arch, **kwargs)
    compiled = cls(arch, compile_cfg=dict(backend=backend), **kwargs)
    compiled.load_state_dict(eager.state_dict())
    return eager, compiled


@pytest.mark.slow
def test_blocks_of_one_stream_share_one_graph_in_train_and_eval():
    """HRFormer-T has 38 transformer blocks over 4 streams.  Training
    compiles one graph per stream, plus one per stream that also holds a
    block with drop-path rate 0 (the first module's first block: streams 0
    and 1); evaluation one per stream.  Outputs equal the eager model's,
    random drop-path draws included."""
    backend = CountingBackend()
    eager, compiled = _pair(HRFormer, 'tiny', backend, drop_path_rate=0.2)
    assert compiled.compiled_blocks == 38 == sum(
        isinstance(m, HRFormerBlock) for m in compiled.modules())
    x = torch.randn(2, 3, 64, 64)
    expected_graphs = {'train': 6, 'eval': 10}
    for mode in ('train', 'eval'):
        eager.train(mode == 'train'), compiled.train(mode == 'train')
        torch.manual_seed(1)
        want = eager(x)
        torch.manual_seed(1)
        got = compiled(x)
        for w, g in zip(want, got):
            assert torch.equal(w, g), mode
        assert backend.graphs == expected_graphs[mode]
    # the same shapes again: nothing new to compile
    compiled(x)
    assert backend.graphs == 10


@pytest.mark.slow
def test_compiled_training_step_matches_eager_gradients():
    """aot_eager traces forward and backward as inductor does; with
    activation checkpointing inside the compiled blocks too."""
    for with_cp in (False, True):
        eager, compiled = _pair(HRFormer, dict(
            channels=(8, 16, 32, 64), num_heads=(1, 1, 2, 2),
            num_modules=(1, 1, 1), num_blocks=2), 'aot_eager',
            drop_path_rate=0.1, with_cp=with_cp)
        x = torch.randn(2, 3, 64, 48)
        for model in (eager, compiled):
            torch.manual_seed(5)
            sum(o.square().mean() for o in model(x)).backward()
        # fp32 rounding of a different operation order (the gradients of
        # conv biases before a BN are ~1e-6 noise around zero)
        for (name, p), q in zip(eager.named_parameters(),
                                compiled.parameters()):
            bound = 2e-5 * max(1., p.grad.abs().max().item())
            assert (p.grad - q.grad).abs().max() <= bound, (with_cp, name)


def test_state_dict_keys_do_not_change():
    eager, compiled = _pair(HRFormer, 'tiny', CountingBackend())
    assert list(eager.state_dict()) == list(compiled.state_dict())


@pytest.mark.parametrize('cls,arch,units', [
    (HRNet, dict(channels=(4, 8, 16, 32), num_modules=(1, 1, 1),
                 num_blocks=1, stage1_blocks=1, stage1_channels=8), 1 + 9),
    (HRViT, dict(channels=(8, 16, 32, 64), head_dim=8,
                 mlp_ratios=(2, 2, 2, 2),
                 blocks=((1, ), (1, 1), (1, 1, 1), (1, 1, 1, 1))), 10),
])
@pytest.mark.slow
def test_other_backbones_compile_their_blocks(cls, arch, units):
    eager, compiled = _pair(cls, arch, CountingBackend())
    assert compiled.compiled_blocks == units
    eager.eval(), compiled.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for w, g in zip(eager(x), compiled(x)):
            assert torch.equal(w, g)


def test_bad_compile_cfg_is_named():
    with pytest.raises(TypeError, match='compile_cfg must be None or a dict'):
        HRFormer('tiny', compile_cfg=True)


def test_recompile_limit_is_raised_not_lowered():
    import torch._dynamo.config as c
    name = 'recompile_limit' if hasattr(c, 'recompile_limit') \
        else 'cache_size_limit'
    old = getattr(c, name)
    try:
        setattr(c, name, 8)
        HRFormer('tiny', compile_cfg={})
        assert getattr(c, name) == RECOMPILE_LIMIT == 64
        setattr(c, name, 1000)
        HRFormer('tiny', compile_cfg={})
        assert getattr(c, name) == 1000
    finally:
        setattr(c, name, old)


@pytest.mark.e2e
def test_fast_path_is_switched_on_from_the_config(tmp_path):
    """tools/train.py then tools/test.py with the backbone's blocks
    compiled, from a config line alone (aot_eager to stay quick on CPU)."""
    from hrformer_mm.datasets import generate_coco_keypoints
    root = tmp_path / 'coco'
    generate_coco_keypoints(str(root), num_train=8, num_val=4, seed=1)
    cfg = pose_config(tmp_path, str(root), epochs=1, extra=(
        "model['backbone']['compile_cfg'] = dict(backend='aot_eager')"))
    work = tmp_path / 'work'
    proc = run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(work)])
    assert 'compiled 9 blocks' in proc.stdout + proc.stderr
    assert (work / 'epoch_1.pth').is_file()
    proc = run([PYTHON, 'tools/test.py', cfg, str(work / 'epoch_1.pth'),
                '--work-dir', str(tmp_path / 'test')])
    assert 'coco/AP' in proc.stdout + proc.stderr
