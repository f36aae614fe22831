"""tools/analysis/benchmark.py (over hrformer_mm.analysis.benchmark) runs
both implementations on equal terms.

No timing is asserted (timings belong in docs/benchmarks.md, not in tests);
these check that the script keeps working and that the two models it races
compute the same thing, so the ratio compares like with like."""
import json
import time

import pytest
import torch

from hrformer_mm.analysis.benchmark import (build_attention_pair,
                                            build_backbone_variants,
                                            build_pair, check_outputs,
                                            time_steps)

from e2e_utils import load_tool


@pytest.fixture(scope='module')
def bench():
    return load_tool('analysis/benchmark.py')


@pytest.mark.parametrize('part,mode,amp', [('backbone', 'infer', []),
                                           ('attention', 'train',
                                            ['--amp'])])
def test_prints_a_ratio(bench, capsys, part, mode, amp):
    bench.main(['--arch', 'tiny', '--part', part, '--mode', mode,
                '--shape', '64', '64', '--batch', '1', '--iters', '2',
                '--warmup', '0', '--device', 'cpu', *amp])
    out = json.loads(capsys.readouterr().out)
    assert out['part'] == part and out['mode'] == mode
    assert out['amp'] == ('bf16' if amp else None)
    assert set(out['images_per_s']) == {'mmpose', 'ours'}
    ms = out['ms_per_image']
    for k, v in out['images_per_s'].items():
        assert v == pytest.approx(1e3 / ms[k]), k  # one median, two units
    ratio = ms['ours'] / ms['mmpose']
    assert out['time_ratio_over_mmpose'] == pytest.approx(
        dict(mmpose=1, ours=ratio))
    assert out['best']['time_ratio_ours_over_mmpose'] == pytest.approx(
        ratio)
    assert out['best']['images_per_s_ratio_ours_over_mmpose'] == \
        pytest.approx(1 / ratio)


@pytest.mark.slow  # torch.compile (inductor) / ONNX export: minutes on 2 cores
def test_variants_race_in_one_run_and_match_eager_mmpose(bench, capsys):
    pytest.importorskip('onnxruntime')
    variants = ['mmpose', 'ours', 'ours+deploy', 'ours+onnx']
    bench.main(['--arch', 'tiny', '--mode', 'infer', '--shape', '64', '64',
                '--batch', '2', '--iters', '1', '--warmup', '0',
                '--device', 'cpu', '--variants', *variants])
    out = json.loads(capsys.readouterr().out)
    assert list(out['ms_per_image']) == variants
    # eager ours within 1e-5 of mmpose's; folded / exported within 1e-4
    # (the 'mmpose' row compares eager mmpose with itself: not asserted)
    assert out['max_abs_diff']['ours'] < 1e-5
    assert out['max_abs_diff']['ours+deploy'] < 1e-4
    assert out['max_abs_diff']['ours+onnx'] < 1e-4
    assert out['best']['mmpose'] == 'mmpose'
    assert out['best']['ours'] in variants[1:]


@pytest.mark.slow  # torch.compile (inductor) / ONNX export: minutes on 2 cores
def test_compiled_variants_run_and_match(bench, capsys):
    """+compile (here with the quicker aot_eager backend; inductor is the
    default), on deployed ours; mmpose+compile takes the same path."""
    variants = ['mmpose', 'ours+deploy+compile', 'mmpose+blocks']
    bench.main(['--arch', 'tiny', '--mode', 'infer', '--shape', '64', '64',
                '--batch', '1', '--iters', '1', '--warmup', '0',
                '--device', 'cpu', '--compile-backend', 'aot_eager',
                '--variants', *variants])
    out = json.loads(capsys.readouterr().out)
    assert list(out['ms_per_image']) == variants
    assert out['max_abs_diff']['ours+deploy+compile'] < 1e-4
    assert out['max_abs_diff']['mmpose+blocks'] < 1e-5
    # counted for this run only: neither our deployed backbone nor
    # mmpose's blocks break the graph
    assert out['graph_breaks'] == 0


@pytest.mark.slow  # torch.compile (inductor) / ONNX export: minutes on 2 cores
def test_block_compiled_channels_last_and_hrnet_rows(bench, capsys):
    """The GPU table's modes that also run on the CPU, training: per-block
    compilation (aot_eager here), channels-last, HRNet-W32 as a reference
    row, peak memory.  Outputs are checked in fp32 against each variant's
    eager model (ours against mmpose's)."""
    variants = ['mmpose', 'ours', 'ours+blocks', 'ours+channels_last',
                'hrnet-w32']
    bench.main(['--arch', 'tiny', '--mode', 'train', '--shape', '64', '64',
                '--batch', '2', '--iters', '1', '--warmup', '1',
                '--device', 'cpu', '--memory', '--compile-backend',
                'aot_eager', '--variants', *variants])
    out = json.loads(capsys.readouterr().out)
    assert list(out['images_per_s']) == variants
    for v in variants:
        if v not in ('mmpose', 'hrnet-w32'):  # those: their eager models
            assert out['max_abs_diff'][v] < 1e-4, v
        assert out['peak_memory_mb'][v] > 0, v
    assert out['best']['ours'] in variants[1:4]
    assert all(out['first_step_s'][v] > 0 for v in variants)
    assert out['best']['images_per_s_ratio_ours_over_hrnet-w32'] == \
        pytest.approx(out['images_per_s'][out['best']['ours']] /
                      out['images_per_s']['hrnet-w32'])


@pytest.mark.slow
def test_output_check_sees_a_changed_weight():
    """check_outputs compares each variant with its eager model (ours with
    mmpose's): one weight changed in a variant's copy shows in its row, and
    only there."""
    torch.manual_seed(0)
    variants = ['mmpose', 'ours', 'ours+channels_last', 'hrnet-w32']
    eager, models, inputs, x = build_backbone_variants(
        variants, 'tiny', (64, 64), 1, 'infer', 'cpu')
    clean = check_outputs(eager, models, inputs, x)
    assert all(clean[v] < 1e-5 for v in variants), clean
    for changed in variants:
        # the first conv weight of that variant's copy (the stem's)
        weight = next(p for p in models[changed].parameters() if p.ndim == 4)
        kept = weight[0, 0, 0, 0].item()
        with torch.no_grad():
            weight[0, 0, 0, 0] += 1.
        diff = check_outputs(eager, models, inputs, x)
        with torch.no_grad():
            weight[0, 0, 0, 0] = kept
        assert diff[changed] > 1e-3, (changed, diff)
        assert all(diff[v] < 1e-5 for v in variants if v != changed), diff


@pytest.mark.parametrize('bad', [['ours+fast'], ['mmpose+deploy'],
                                 ['triton'], ['hrnet-w32+deploy'],
                                 ['ours+blocks+cudagraphs'],
                                 ['ours+onnx+compile']])
def test_unknown_or_impossible_variant_is_refused(bench, bad):
    with pytest.raises(SystemExit,
                       match='deploy|unknown|cudagraphs|onnx'):
        bench.main(['--arch', 'tiny', '--mode', 'infer', '--shape', '64',
                    '64', '--batch', '1', '--device', 'cpu', '--variants',
                    *bad])


def test_raced_models_compute_the_same():
    torch.manual_seed(0)
    ref, ours = build_pair('tiny', 'cpu')
    ref.eval(), ours.eval()
    x = torch.randn(1, 3, 64, 64)  # mmpose needs multiples of 32
    with torch.no_grad():
        assert torch.allclose(ref(x)[0], ours(x)[0], atol=1e-5)
    # attention layer of S's first stream, 16x12 map: windows are padded
    ref, ours = build_attention_pair(32, 1, 7, 'cpu')
    assert ref.attn.relative_position_bias_table.abs().sum() > 0
    with torch.no_grad():
        t = torch.randn(2, 16, 12, 32)
        assert torch.allclose(ref(t.flatten(1, 2), 16, 12),
                              ours(t).flatten(1, 2), atol=1e-5)


def test_device_is_cpu_unless_cuda_is_asked_for(bench, monkeypatch):
    """The same command measures the same thing on every machine: a GPU in
    the machine does not switch the run to CUDA."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert bench.parse_args([]).device == 'cpu'
    assert bench.parse_args(['--device', 'cuda']).device == 'cuda'


class FirstOutput(torch.nn.Module):
    """A module with a backbone's interface: a tuple of maps."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return (self.layer(x), )


class HostOutputs(FirstOutput):
    """A variant that runs off the device and hands back host tensors, as
    the ``+onnx`` variants (onnxruntime's CPU provider) do."""

    def forward(self, x):
        return tuple(out.cpu() for out in super().forward(x))


def test_host_outputs_are_compared_with_a_cuda_reference():
    """Eager models on CUDA, one variant returning CPU tensors: the outputs
    are compared on one device.  FakeTensorMode stands in for the GPU (it
    raises on a CPU / CUDA mix as CUDA does); its ShapeEnv turns each
    difference's ``.item()`` into a symbol, as no values are computed."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv
    with FakeTensorMode(shape_env=ShapeEnv()):
        conv = torch.nn.Conv2d(3, 4, 3, device='cuda')
        eager = dict(mmpose=FirstOutput(conv), ours=FirstOutput(conv))
        models = {'ours': eager['ours'], 'ours+onnx': HostOutputs(conv)}
        x = torch.randn(1, 3, 8, 8, device='cuda')
        diff = check_outputs(eager, models, dict.fromkeys(models, x), x)
    assert set(diff) == {'ours', 'ours+onnx'}


class FakeCudaMemory:
    """The caching allocator's counters as ``torch.cuda`` reports them:
    bytes allocated now and their peak since the last reset."""

    def __init__(self):
        self.allocated = self.peak = 0

    def alloc(self, n):
        self.allocated += n
        self.peak = max(self.peak, self.allocated)

    def free(self, n):
        self.allocated -= n

    def install(self, monkeypatch):
        class Event:
            def __init__(self, enable_timing=False):
                self.t = 0.

            def record(self):
                self.t = time.perf_counter()

            def synchronize(self):
                pass

            def elapsed_time(self, end):
                return 1e3 * (end.t - self.t)

        def reset_peak_memory_stats(device=None):
            self.peak = self.allocated

        monkeypatch.setattr(torch.cuda, 'Event', Event)
        monkeypatch.setattr(torch.cuda, 'synchronize', lambda d=None: None)
        monkeypatch.setattr(torch.cuda, 'memory_allocated',
                            lambda d=None: self.allocated)
        monkeypatch.setattr(torch.cuda, 'max_memory_allocated',
                            lambda d=None: self.peak)
        monkeypatch.setattr(torch.cuda, 'reset_peak_memory_stats',
                            reset_peak_memory_stats)


def test_cuda_graph_memory_is_counted_where_it_is_allocated(monkeypatch):
    """A CUDA-graph variant allocates its activations while its graph is
    captured (into the graph's pool, which it then holds) and nothing when
    the graph replays; an eager variant allocates them in every step.  Both
    hold the same 96 MiB, and --memory reports 96 MiB for both, 8 MiB of
    weights being live throughout.  The allocator's counters are emulated;
    the graph's calls are those of torch.compile's cudagraph trees: a
    warm-up run, the capture, then replays."""
    mem = FakeCudaMemory()
    mem.install(monkeypatch)
    mem.alloc(8 * 2**20)
    activations = 96 * 2**20
    calls = []

    def eager():
        mem.alloc(activations)
        mem.free(activations)

    def graph():
        calls.append(len(calls))
        if len(calls) <= 2:  # warm-up, then capture into the graph's pool
            mem.alloc(activations)
            mem.free(activations)

    _, extra = time_steps(dict(ours=eager, cudagraphs=graph), 'cuda',
                          iters=2, warmup=2, memory=True)
    assert len(calls) == 5  # first, warm-up, memory, two timed: replays
    assert extra['peak_memory_mb'] == dict(ours=96, cudagraphs=96)


@pytest.mark.slow
def test_counted_step_is_deterministic_and_sees_an_extra_op(bench, capsys):
    """--count-ops: the counts of one step, repeatable run to run, and
    ours' training step dispatches fewer operators than mmpose's (the
    counted regression guard behind the timed race)."""
    from hrformer_mm.analysis.benchmark import count_step, step_fn
    args = ['--arch', 'tiny', '--mode', 'train', '--shape', '64', '64',
            '--batch', '1', '--iters', '1', '--warmup', '1', '--count-ops']
    bench.main(args)
    first = json.loads(capsys.readouterr().out)['ops_per_step']
    bench.main(args)
    second = json.loads(capsys.readouterr().out)['ops_per_step']
    assert first == second
    assert 0 < first['ours']['aten_ops'] < first['mmpose']['aten_ops']
    assert first['ours']['python_calls'] > 0

    torch.manual_seed(0)
    _, ours = build_pair('tiny', 'cpu')
    x = torch.randn(1, 3, 64, 64)
    plain = count_step(step_fn(ours, x, 'train'))
    # the same step plus one element-wise op: one more call, another digest
    extra = count_step(step_fn(ours, x, 'train',
                               call=lambda m, t: m(t)[0] * 1.0))
    assert extra['aten_ops'] == plain['aten_ops'] + 2  # mul, its backward
    assert extra['ops_digest'] != plain['ops_digest']


def test_counted_step_does_not_depend_on_the_thread_count():
    """oneDNN's backward of a 1x1 convolution of a channels-last input (as
    HRFormer's FFN gets from the window attention) gives weight gradients
    whose size-1 dimensions have thread-count-dependent strides; the count
    runs on one thread so that a record made with OMP_NUM_THREADS=1 holds
    on any machine, and the caller's thread count is restored."""
    from hrformer_mm.analysis.benchmark import count_step, step_fn
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(32, 128, 1),
                                torch.nn.Conv2d(128, 32, 1))
    x = torch.randn(1, 32, 16, 16).to(memory_format=torch.channels_last)
    step = step_fn(model, x, 'train', call=lambda m, t: m(t))
    step()  # the optimizer's state is made on its first step, as warm-up
    before = torch.get_num_threads()
    counts = {}
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            counts[n] = count_step(step)
            assert torch.get_num_threads() == n
    finally:
        torch.set_num_threads(before)
    assert counts[1] == counts[2]
