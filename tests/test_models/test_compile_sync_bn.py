"""SyncBN inside the compiled blocks (``compile_cfg`` with the COCO and
segmentation recipes, whose blocks' FFNs hold SyncBN): with more than one
rank its synchronising forward runs eagerly between the compiled pieces of
a block, so no collective ends up in a graph and each stream's blocks still
share their graphs.

Two ranks are emulated in one process: torch's fake process group (world
size 2, collectives complete without moving data), and torch's SyncBN sync
path, which has CUDA kernels only, replaced by a CPU one of the same shape:
a c10d all-reduce of the per-channel sums, the ranks without data dropped by
boolean-mask indexing, and the all-reduce of the gradient sums in backward.
With the fake group the all-reduces leave their input as it is, so the
emulated SyncBN computes plain BN on the local batch."""
import pytest
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Function

from hrformer_mm.models.backbones import HRFormer
from hrformer_mm.models.backbones.eager_sync_bn import (
    EagerSyncBatchNorm, keep_sync_batchnorm_eager)

from cluster_utils import HELPERS, free_port
from e2e_utils import PYTHON, run

ARCH = dict(channels=(8, 16, 32, 64), num_heads=(1, 1, 2, 2),
            num_modules=(1, 1, 1), num_blocks=2)  # 18 blocks, 4 streams


#: calls of the emulated sync path (a dict: the compiler can trace it)
CALLS = {}


class EmulatedSyncBatchNorm(Function):
    """What torch's SyncBN autograd function does, on the CPU."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps,
                momentum, group):
        CALLS['sync'] += 1
        dims = [d for d in range(x.dim()) if d != 1]
        c = x.shape[1]
        stats = torch.cat([x.sum(dims), x.square().sum(dims),
                           x.new_full((1, ), x.numel() // c)])
        dist.all_reduce(stats, group=group)
        rows = stats.unsqueeze(0)
        rows = rows[rows[:, -1] >= 1]  # ranks with data: data-dependent shape
        n = rows[:, -1].sum()
        mean = rows[:, :c].sum(0) / n
        var = rows[:, c:2 * c].sum(0) / n - mean.square()
        invstd = torch.rsqrt(var + eps)
        running_mean.mul_(1 - momentum).add_(momentum * mean)
        running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
        shape = [1, c] + [1] * (x.dim() - 2)
        xhat = (x - mean.view(shape)) * invstd.view(shape)
        ctx.save_for_backward(xhat, weight, invstd, n)
        ctx.group = group
        return xhat * weight.view(shape) + bias.view(shape)

    @staticmethod
    def backward(ctx, dy):
        xhat, weight, invstd, n = ctx.saved_tensors
        dims = [d for d in range(dy.dim()) if d != 1]
        shape = [1, -1] + [1] * (dy.dim() - 2)
        grad_bias, grad_weight = dy.sum(dims), (dy * xhat).sum(dims)
        sums = torch.cat([grad_bias, grad_weight])
        dist.all_reduce(sums, group=ctx.group)
        sum_dy, sum_dy_xhat = sums.chunk(2)
        dx = (weight * invstd).view(shape) * (
            dy - (sum_dy / n).view(shape) -
            xhat * (sum_dy_xhat / n).view(shape))
        return dx, grad_weight, grad_bias, None, None, None, None, None


def emulated_sync_bn_forward(self, x):
    """torch's ``SyncBatchNorm.forward`` without its CUDA-only check."""
    if self.training:
        self.num_batches_tracked.add_(1)
    group = self.process_group or dist.group.WORLD
    if self.training and dist.is_initialized() and \
            dist.get_world_size(group) > 1:
        return EmulatedSyncBatchNorm.apply(
            x, self.weight, self.bias, self.running_mean, self.running_var,
            self.eps, self.momentum, group)
    return F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                        self.bias, self.training, self.momentum, self.eps)


@pytest.fixture
def sync_bn_on_cpu(monkeypatch):
    monkeypatch.setattr(nn.SyncBatchNorm, 'forward', emulated_sync_bn_forward)
    CALLS['sync'] = 0


@pytest.fixture
def two_ranks(sync_bn_on_cpu):
    from torch.testing._internal.distributed.fake_pg import FakeStore
    dist.init_process_group('fake', store=FakeStore(), rank=0, world_size=2)
    yield
    dist.destroy_process_group()


class RecordingBackend:
    """Runs each captured graph as is and keeps it."""

    def __init__(self):
        self.graphs = []

    def __call__(self, gm, example_inputs):
        self.graphs.append(gm)
        return gm.forward

    def collectives(self):
        return [str(n.target) for gm in self.graphs for n in gm.graph.nodes
                if n.op == 'call_function' and 'c10d' in str(n.target)]


def _pair(backend):
    torch.manual_seed(0)
    sync_bn = dict(type='SyncBN', requires_grad=True)
    eager = HRFormer(ARCH, norm_cfg=sync_bn)
    compiled = HRFormer(ARCH, norm_cfg=sync_bn,
                        compile_cfg=dict(backend=backend))
    compiled.load_state_dict(eager.state_dict())
    return eager, compiled


@pytest.mark.slow
def test_two_ranks_sync_bn_runs_outside_the_graphs_of_the_blocks(two_ranks):
    """Training with two ranks: every SyncBN synchronises eagerly, once per
    step, and no graph holds a collective.  Each stream's blocks share six
    graphs (attention, the FFN's pieces between its three SyncBN layers,
    the residual add), 24 for the 4 streams whatever their block count;
    evaluation adds one graph per stream (nothing to synchronise there).
    Outputs, gradients and running statistics equal the eager model's."""
    backend = RecordingBackend()
    eager, compiled = _pair(backend)
    num_sync_bn = sum(isinstance(m, nn.SyncBatchNorm)
                      for m in compiled.modules())
    x = torch.randn(2, 3, 64, 48)
    for step in range(2):
        outs = []
        for model in (eager, compiled):
            CALLS['sync'] = 0
            model.zero_grad()
            outs.append(model(x))
            sum(o.square().mean() for o in outs[-1]).backward()
            assert CALLS['sync'] == num_sync_bn == 107
        for want, got in zip(*outs):
            assert torch.equal(want, got), step
        assert backend.collectives() == []
        assert len(backend.graphs) == 24, step  # nothing new in step 2
    for p, q in zip(eager.parameters(), compiled.parameters()):
        assert torch.equal(p.grad, q.grad)
    for a, b in zip(eager.buffers(), compiled.buffers()):
        assert torch.equal(a, b)
    eager.eval(), compiled.eval()
    CALLS['sync'] = 0
    with torch.no_grad():
        for want, got in zip(eager(x), compiled(x)):
            assert torch.equal(want, got)
    assert CALLS['sync'] == 0
    assert len(backend.graphs) == 24 + 4


def test_one_rank_sync_bn_stays_inside_one_graph_per_stream(sync_bn_on_cpu):
    """No process group: nothing to synchronise, so SyncBN is a batch norm
    inside the graph and the blocks of a stream share one graph."""
    backend = RecordingBackend()
    eager, compiled = _pair(backend)
    x = torch.randn(2, 3, 64, 48)
    for want, got in zip(eager(x), compiled(x)):
        assert torch.equal(want, got)
    assert len(backend.graphs) == 4
    assert CALLS['sync'] == 0


def test_the_swap_keeps_keys_values_and_the_sync_bn_class():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.SyncBatchNorm(4),
                          nn.BatchNorm2d(4))
    model[1].running_mean.uniform_()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    weight = model[1].weight
    assert keep_sync_batchnorm_eager(model) == 1
    assert type(model[1]) is EagerSyncBatchNorm
    assert isinstance(model[1], nn.SyncBatchNorm)
    assert type(model[2]) is nn.BatchNorm2d
    assert model[1].weight is weight
    after = model.state_dict()
    assert list(after) == list(before)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert keep_sync_batchnorm_eager(model) == 0  # already swapped


def test_a_sync_bn_subclass_with_its_own_forward_is_refused():

    class OwnSyncBN(nn.SyncBatchNorm):

        def forward(self, x):
            return x

    with pytest.raises(TypeError, match=r'1: .*OwnSyncBN .* a forward of its '
                       r'own'):
        keep_sync_batchnorm_eager(nn.Sequential(nn.Identity(), OwnSyncBN(4)))


def test_sync_bn_converted_after_compiling_is_swapped_again():
    """mmengine's ``sync_bn='torch'`` converts every BN of the built model
    (SyncBN included) into a new ``nn.SyncBatchNorm``; build_runner then
    swaps the compiled blocks' ones again, and only those."""
    model = HRFormer(ARCH, compile_cfg=dict(backend=RecordingBackend()))
    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert not any(isinstance(m, EagerSyncBatchNorm)
                   for m in model.modules())
    assert model.keep_sync_batchnorm_eager() == 18 * 3  # the FFNs' norms
    assert type(model.bn1) is nn.SyncBatchNorm  # the stem is eager anyway
    assert HRFormer(ARCH).keep_sync_batchnorm_eager() == 0  # not compiled


@pytest.mark.cluster
def test_two_processes_train_the_compiled_blocks_as_the_eager_ones():
    """Two real ranks (torchrun, gloo) instead of the fake group, so the
    emulated SyncBN synchronises across processes; aot_eager traces forward
    and backward as inductor does.  On a GPU machine the same helper runs
    torch's own SyncBN (docs/gpu.md)."""
    proc = run([PYTHON, '-m', 'torch.distributed.run', '--nproc_per_node=2',
                f'--master_port={free_port()}',
                f'{HELPERS}/sync_bn_compile_check.py', '--backend',
                'aot_eager'], timeout=600)
    for rank in (0, 1):
        assert f'rank {rank}: ok (24 graphs' in proc.stdout, proc.stdout
