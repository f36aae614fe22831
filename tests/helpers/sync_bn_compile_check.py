"""Two ranks train one step of a small HRFormer with SyncBN in its FFNs,
compiled blocks (``compile_cfg``) against the eager model: no collective
in any compiled graph, each stream's blocks sharing their graphs, and the
compiled step's outputs, gradients and running statistics those of the
eager one.

On a GPU machine torch's own SyncBN runs (its CUDA kernels and gather);
both ranks may share one GPU, over gloo.  Without CUDA, SyncBN's sync path
is the CPU emulation of tests/test_models/test_compile_sync_bn.py.

    python -m torch.distributed.run --nproc_per_node=2 \\
        tests/helpers/sync_bn_compile_check.py [--backend inductor]

Prints one ``rank R: ...`` line per rank and exits non-zero on a mismatch.
"""
import argparse
import os
import os.path as osp
import sys

import torch
import torch.distributed as dist

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path[:0] = [osp.join(ROOT, 'tests'),
                osp.join(ROOT, 'tests', 'test_models')]

import hrformer_mm  # noqa: E402,F401
from hrformer_mm.models.backbones import HRFormer  # noqa: E402
from test_compile_sync_bn import (ARCH, CALLS, RecordingBackend,  # noqa: E402
                                  emulated_sync_bn_forward)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--backend', default='inductor',
                        help='compiler backend of the numerics check')
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    if cuda:
        # both ranks on one GPU where there is one: gloo then
        gpus = torch.cuda.device_count()
        device = torch.device('cuda', int(os.environ['LOCAL_RANK']) % gpus)
        torch.cuda.set_device(device)
        dist.init_process_group('nccl' if gpus > 1 else 'gloo')
    else:
        device = torch.device('cpu')
        torch.nn.SyncBatchNorm.forward = emulated_sync_bn_forward
        dist.init_process_group('gloo')
    rank = dist.get_rank()
    CALLS['sync'] = 0
    sync_bn = dict(type='SyncBN', requires_grad=True)
    torch.manual_seed(0)
    eager = HRFormer(ARCH, norm_cfg=sync_bn).to(device)
    state = {k: v.clone() for k, v in eager.state_dict().items()}
    torch.manual_seed(rank + 1)
    x = torch.randn(2, 3, 64, 48, device=device)
    failures = []

    def step(model):
        model.zero_grad()
        out = model(x)
        sum(o.square().mean() for o in out).backward()
        return out

    want = step(eager)
    # the graphs: a pass-through backend that keeps them
    counting = RecordingBackend()
    model = HRFormer(ARCH, norm_cfg=sync_bn,
                     compile_cfg=dict(backend=counting)).to(device)
    model.load_state_dict(state)
    step(model)
    if counting.collectives():
        failures.append(f'collectives in graphs: {counting.collectives()}')
    if len(counting.graphs) != 24:
        failures.append(f'{len(counting.graphs)} graphs, expected 24')
    # the numerics, with the real compiler
    model = HRFormer(ARCH, norm_cfg=sync_bn,
                     compile_cfg=dict(backend=args.backend)).to(device)
    model.load_state_dict(state)
    got = step(model)
    tol = dict(rtol=1e-4, atol=1e-4)
    for w, g in zip(want, got):
        if not torch.allclose(w, g, **tol):
            failures.append(f'output differs by {(w - g).abs().max():.2e}')
    for (name, p), q in zip(eager.named_parameters(), model.parameters()):
        if not torch.allclose(p.grad, q.grad, **tol):
            failures.append(f'{name}.grad differs by '
                            f'{(p.grad - q.grad).abs().max():.2e}')
    for (name, a), b in zip(eager.named_buffers(), model.buffers()):
        if a.is_floating_point() and not torch.allclose(a, b, **tol):
            failures.append(f'{name} differs by {(a - b).abs().max():.2e}')
    # the running statistics come from both ranks' batches
    mean = eager.stage2[0].branches[0][0].ffn.norm1.running_mean.clone()
    means = [torch.empty_like(mean) for _ in range(2)]
    dist.all_gather(means, mean)
    if not torch.equal(means[0], means[1]):
        failures.append('the ranks hold different running statistics')
    verdict = f'FAIL {"; ".join(failures[:5])}' if failures else 'ok'
    print(f'rank {rank}: {verdict}'
          f' ({len(counting.graphs)} graphs, device {device}, '
          f'{dist.get_backend()}, backend {args.backend})', flush=True)
    dist.destroy_process_group()
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
