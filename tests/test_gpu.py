"""On a CUDA GPU: parity with mmpose in fp32 and under bf16 autocast, the
compiled fast path, and the tools (``--amp`` training, tools/test.py, a
1-GPU tools/dist_train.sh with NCCL).

Skipped, with the reason, where no CUDA device is present (CI is CPU-only);
run on the GPU machine (the GPU checks of docs/benchmarks.md).  Every other test forces the CPU
for its subprocesses (tests/e2e_utils.run), so the suite gives the same
answers with and without a GPU.
"""
import json
import socket

import pytest
import torch

from e2e_utils import PYTHON, load_tool, pose_config, run

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='needs a CUDA GPU')

# Relative L2 error of a bf16-autocast forward against the fp32 one, over
# the 1/4-resolution output of HRFormer-S at 256x192 with random weights.
# bf16 keeps 8 significant bits (relative rounding 2**-9 ~ 0.2 %) and the
# error grows over ~30 residual blocks; ours may not be worse than 1.5x
# mmpose's own bf16 error (plus 0.5 % for run-to-run kernel choice), and
# neither may exceed 5 %.
BF16_REL_ERR_MAX = 0.05


def _rel_err(a, b):
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


@pytest.fixture(scope='module')
def pair():
    from hrformer_mm.analysis.benchmark import build_pair
    torch.manual_seed(0)
    ref, ours = build_pair('small', 'cuda')
    ref.eval(), ours.eval()
    x = torch.randn(4, 3, 256, 192, device='cuda')
    return ref, ours, x


@pytest.fixture
def no_tf32():
    old = (torch.backends.cuda.matmul.allow_tf32,
           torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    (torch.backends.cuda.matmul.allow_tf32,
     torch.backends.cudnn.allow_tf32) = old


def test_fp32_parity_with_mmpose_on_cuda(pair, no_tf32):
    """TF32 off: the same function as mmpose's up to fp32 rounding of
    different kernels (cuDNN algorithms, fused attention)."""
    ref, ours, x = pair
    with torch.no_grad():
        want, got = ref(x)[0], ours(x)[0]
    assert (want - got).abs().max().item() < 1e-4 * max(
        1., want.abs().max().item())


def test_bf16_autocast_error_is_mmposes(pair, no_tf32):
    ref, ours, x = pair
    with torch.no_grad():
        want = ref(x)[0]
        with torch.autocast('cuda', dtype=torch.bfloat16):
            ref_bf16, ours_bf16 = ref(x)[0], ours(x)[0]
    ref_err, our_err = _rel_err(ref_bf16, want), _rel_err(ours_bf16, want)
    assert our_err < BF16_REL_ERR_MAX and ref_err < BF16_REL_ERR_MAX
    assert our_err <= 1.5 * ref_err + 0.005, (our_err, ref_err)


def test_compiled_blocks_match_eager_and_train_under_bf16(pair, no_tf32):
    """The config fast path (inductor, per block): fp32 outputs equal the
    eager model's to 1e-4, and a bf16-autocast training step runs."""
    from hrformer_mm.models.backbones import HRFormer
    _, ours, x = pair
    fast = HRFormer('small', out_indices=(0, ), compile_cfg={}).cuda()
    fast.load_state_dict(ours.state_dict())
    fast.eval()
    with torch.no_grad():
        want, got = ours(x)[0], fast(x)[0]
    assert (want - got).abs().max().item() < 1e-4 * max(
        1., want.abs().max().item())
    fast.train()
    opt = torch.optim.AdamW(fast.parameters(), lr=1e-4)
    for _ in range(2):
        with torch.autocast('cuda', dtype=torch.bfloat16):
            loss = fast(x)[0].float().square().mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    assert torch.isfinite(loss)


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_window_attention_runs_on_the_fused_kernel_with_its_bias(dtype):
    """With only the memory-efficient SDPA backend allowed (flash attention
    takes no additive bias), forward and backward of a window-attention
    layer run, the bias table gets its gradient, and the result is the
    math backend's."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from hrformer_mm.models.layers import LocalWindowAttention
    torch.manual_seed(0)
    layer = LocalWindowAttention(64, 2, 7).cuda()
    torch.nn.init.trunc_normal_(layer.attn.relative_position_bias_table,
                                std=0.02)
    x = torch.randn(4, 28, 21, 64, device='cuda')
    results = {}
    for backend in (SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH):
        layer.zero_grad()
        with sdpa_kernel([backend]), torch.autocast(
                'cuda', dtype=dtype, enabled=dtype != torch.float32):
            out = layer(x)
        out.float().square().mean().backward()
        table = layer.attn.relative_position_bias_table.grad
        assert table is not None and table.abs().sum() > 0
        results[backend] = (out.float(), table.clone())
    (o1, g1), (o2, g2) = results.values()
    tol = 1e-4 if dtype == torch.float32 else 3e-2
    assert _rel_err(o1, o2) < tol and _rel_err(g1, g2) < 10 * tol


@pytest.fixture(scope='module')
def gpu_coco(tmp_path_factory):
    from hrformer_mm.datasets import generate_coco_keypoints
    root = tmp_path_factory.mktemp('coco')
    generate_coco_keypoints(str(root), num_train=16, num_val=4, seed=1)
    return str(root)


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


@pytest.mark.e2e
def test_amp_training_then_test_on_the_gpu(tmp_path, gpu_coco):
    cfg = pose_config(tmp_path, gpu_coco, epochs=1)
    work = tmp_path / 'work'
    proc = run([PYTHON, 'tools/train.py', cfg, '--amp', '--work-dir',
                str(work)], gpu=True)
    log = proc.stdout + proc.stderr
    assert "type='AmpOptimWrapper'" in log
    assert (work / 'epoch_1.pth').is_file()
    proc = run([PYTHON, 'tools/test.py', cfg, str(work / 'epoch_1.pth'),
                '--work-dir', str(tmp_path / 'test')], gpu=True)
    assert 'coco/AP' in proc.stdout + proc.stderr


@pytest.mark.e2e
def test_one_gpu_distributed_training_uses_nccl(tmp_path, gpu_coco):
    cfg = pose_config(tmp_path, gpu_coco, epochs=1)
    work = tmp_path / 'dist'
    proc = run(['bash', 'tools/dist_train.sh', cfg, '1', '--work-dir',
                str(work)], gpu=True,
               env=dict(PYTHON=PYTHON, PORT=_free_port()))
    log = proc.stdout + proc.stderr
    assert "backend='nccl'" in log  # (the config as mmengine prints it)
    assert 'CPU distributed run: gloo backend' not in log
    assert (work / 'epoch_1.pth').is_file()
    with open(work / 'last_checkpoint') as f:
        assert f.read().strip().endswith('epoch_1.pth')


def test_benchmark_gpu_modes_run(capsys):
    bench = load_tool('analysis/benchmark.py')
    bench.main(['--arch', 'tiny', '--mode', 'train', '--batch', '4',
                '--iters', '3', '--warmup', '1', '--device', 'cuda',
                '--amp', 'bf16', '--memory', '--variants', 'mmpose', 'ours',
                'ours+blocks', 'hrnet-w32'])
    out = json.loads(capsys.readouterr().out)
    assert set(out['images_per_s']) == {'mmpose', 'ours', 'ours+blocks',
                                        'hrnet-w32'}
    assert all(v > 0 for v in out['peak_memory_mb'].values())
