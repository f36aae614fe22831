"""Speed of this HRFormer against mmpose's, on equal terms.

Implementations: ``mmpose`` (mmpose's HRFormer), ``ours`` (the same
weights) and, as reference rows, mmpose's ``hrnet-w32`` / ``hrnet-w48``
(the CNNs of similar COCO AP, their own random weights).  A *variant* is an
implementation with options joined by ``+``:

- ``compile``: ``torch.compile`` of the whole backbone;
- ``blocks``: each repeated block compiled on its own (ours'
  ``compile_cfg`` fast path; for mmpose's models the same done to their
  blocks);
- ``cudagraphs``: compile / blocks with mode ``reduce-overhead`` (CUDA);
- ``channels_last``: model and input in channels-last memory format;
- ``onnx``: exported with ``torch.onnx``, run by onnxruntime's CPU
  provider with the same thread count (inference only; in a CUDA run the
  input is copied to the host and the outputs stay there);
- ``deploy`` (ours only): BatchNorm folded, conv + activation fused
  (inference only).

The steps: :func:`build_backbone_variants` (or :func:`attention_steps` for
one window-attention layer), :func:`check_outputs` (every variant against
its eager model; ours against mmpose's, the same function),
:func:`backbone_steps`, :func:`time_steps` (the variants' steps
interleaved, so that drift of a shared machine affects all alike) and
:func:`report` (times relative to eager mmpose and best-against-best
ratios).  ``tools/analysis/benchmark.py`` is the command line.
"""
import collections
import copy
import cProfile
import hashlib
import io
import json
import os.path as osp
import pstats
import statistics
import sys
import time
from typing import Dict, Optional, Sequence

import torch

from hrformer_mm.models.backbones import HRFormer
from hrformer_mm.models.backbones.base import compile_repeated_blocks
from hrformer_mm.testing import hrnet_extra, mmpose_hrformer_extra


def build_attention_pair(channels: int, heads: int, window: int,
                         device: str):
    """One window-attention layer of each implementation, same weights.
    Ours takes (B, H, W, C) maps, mmpose's (B, H*W, C) tokens."""
    from mmpose.models.backbones.hrformer import LocalWindowSelfAttention
    from hrformer_mm.models.layers import LocalWindowAttention
    ref = LocalWindowSelfAttention(channels, heads,
                                   window_size=window).to(device)
    # a non-zero bias table, as after training (mmpose's own init_weights
    # leaves it at zero: it passes the table to mmcv's trunc_normal_init,
    # which only acts on modules with a .weight)
    torch.nn.init.trunc_normal_(ref.attn.relative_position_bias_table,
                                std=0.02)
    ours = LocalWindowAttention(channels, heads, window).to(device)
    ours.load_state_dict({k: v for k, v in ref.state_dict().items()
                          if not k.endswith('relative_position_index')})
    return ref, ours


def build_pair(arch: str, device: str, with_cp: bool = False):
    """mmpose's HRFormer and ours (``with_cp`` for ours only), same weights,
    with random BN statistics so that folding them is exercised."""
    from mmpose.models.backbones import HRFormer as MMPoseHRFormer
    ref = MMPoseHRFormer(mmpose_hrformer_extra(arch),
                         norm_cfg=dict(type='BN')).to(device)
    with torch.no_grad():
        for name, b in ref.named_buffers():
            if name.endswith('running_mean'):
                b.normal_(std=0.1)
            elif name.endswith('running_var'):
                b.uniform_(0.75, 1.25)
    ours = HRFormer(arch, out_indices=(0, ), with_cp=with_cp).to(device)
    ours.load_state_dict({k: v for k, v in ref.state_dict().items()
                          if not k.endswith('relative_position_index')})
    return ref, ours


def build_hrnet(width: str, device: str):
    """mmpose's HRNet-W32 / W48 as configured for top-down pose (highest
    stream only), random BN statistics: the CNN of similar COCO AP that
    users would otherwise pick (a reference row; other weights, other
    function)."""
    from mmpose.models.backbones import HRNet as MMPoseHRNet
    ref = MMPoseHRNet(hrnet_extra(width, multiscale_output=False),
                      norm_cfg=dict(type='BN')).to(device)
    with torch.no_grad():
        for name, b in ref.named_buffers():
            if name.endswith('running_var'):
                b.uniform_(0.75, 1.25)
    return ref


AMP_DTYPES = dict(bf16=torch.bfloat16, fp16=torch.float16)


def step_fn(model, x, mode, amp=None, call=None, cudagraphs=False):
    """One training step (forward, backward, AdamW) or inference forward.
    ``call(model, x)`` runs the model, returning a tensor (default: the
    backbone's first output); ``amp``: None, 'bf16' or 'fp16' autocast;
    ``cudagraphs`` marks each step as a new CUDA-graph iteration."""
    call = call or (lambda m, t: m(t)[0])
    autocast = dict(device_type=x.device.type, enabled=amp is not None,
                    dtype=AMP_DTYPES[amp or 'bf16'])
    begin = torch.compiler.cudagraph_mark_step_begin if cudagraphs else \
        (lambda: None)
    if mode == 'train':
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        optim = torch.optim.AdamW(params, lr=1e-6) if params else None

        def step():
            begin()
            with torch.autocast(**autocast):
                out = call(model, x)
            out.float().mean().backward()
            if optim is not None:
                optim.step()
                optim.zero_grad(set_to_none=True)
    else:
        model.eval()

        @torch.no_grad()
        def step():
            begin()
            with torch.autocast(**autocast):
                call(model, x)
    return step


def timed(step, device):
    """Seconds one step takes: CUDA events on the GPU (the kernels' time
    from the first launch to the last completion), wall clock on the
    CPU."""
    if device == 'cuda':
        start, end = (torch.cuda.Event(enable_timing=True) for _ in '12')
        torch.cuda.synchronize()
        start.record()
        step()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3
    t = time.perf_counter()
    step()
    return time.perf_counter() - t


def peak_memory(step, device) -> int:
    """Bytes allocated by one step on top of what was live before it (a
    CUDA graph's replay allocates nothing: see :func:`time_steps`)."""
    if device == 'cuda':
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        step()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    import tempfile
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        step()
    # every allocation and free is a '[memory]' event in the trace
    with tempfile.TemporaryDirectory() as d:
        prof.export_chrome_trace(osp.join(d, 'trace.json'))
        with open(osp.join(d, 'trace.json')) as f:
            events = json.load(f)['traceEvents']
    events = sorted((e for e in events if e.get('name') == '[memory]'),
                    key=lambda e: e['ts'])
    live = peak = 0
    for e in events:
        live += e['args']['Bytes']
        peak = max(peak, live)
    return peak


def print_profile(name, step, device, top) -> None:
    from torch.profiler import ProfilerActivity, profile
    acts = [ProfilerActivity.CPU]
    if device == 'cuda':
        acts.append(ProfilerActivity.CUDA)
    with profile(activities=acts) as prof:
        step()
    key = 'self_cuda_time_total' if device == 'cuda' else \
        'self_cpu_time_total'
    print(f'== {name}: top {top} operators by self time', file=sys.stderr)
    print(prof.key_averages().table(sort_by=key, row_limit=top),
          file=sys.stderr)


def _op_key(func, args) -> str:
    def sig(a):
        if isinstance(a, torch.Tensor):
            return f'{a.dtype}{tuple(a.shape)}{tuple(a.stride())}'
        if isinstance(a, (list, tuple)):
            return '[' + ','.join(sig(b) for b in a) + ']'
        return '_'
    return f'{func} {sig(args)}'


def count_step(step) -> Dict[str, object]:
    """What one step asks of the machine, counted instead of timed:
    ``aten_ops`` (operator calls that reach the dispatcher: forward,
    backward and the optimizer), ``distinct_ops`` (distinct operator, dtype,
    shape and stride combinations), ``ops_digest`` (a hash of those with
    their counts) and ``python_calls`` (cProfile's function calls).

    Counts do not depend on the load of a shared machine: two commits whose
    steps have the same digest run the same kernels on the same shapes, so
    a difference in their time is noise (or Python overhead, which
    ``python_calls`` shows).  The digest covers the positional arguments
    (where aten takes its tensors) and depends on the torch version, which
    decomposes some operators differently from release to release.
    Compiled variants dispatch little outside their kernels, so their counts
    are not comparable with eager ones.

    The step is counted on one intra-op thread: oneDNN's backward of a 1x1
    convolution of a channels-last input returns weight gradients whose
    size-1 dimensions carry strides that depend on the thread count, which
    would change ``distinct_ops`` and the digest from one machine to the
    next."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):

        def __init__(self):
            super().__init__()
            self.ops = collections.Counter()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops[_op_key(func, args)] += 1
            return func(*args, **(kwargs or {}))

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with Count() as counted:
            step()
        prof = cProfile.Profile()
        prof.enable()
        step()
        prof.disable()
    finally:
        torch.set_num_threads(threads)
    digest = hashlib.sha1(
        json.dumps(sorted(counted.ops.items())).encode()).hexdigest()
    return dict(aten_ops=sum(counted.ops.values()),
                distinct_ops=len(counted.ops), ops_digest=digest[:12],
                python_calls=pstats.Stats(prof).total_calls)


class OnnxBackbone(torch.nn.Module):
    """A backbone exported to ONNX, run by onnxruntime's CPU provider:
    ``(x) -> (out0, )`` (the first output only, as timed for the other
    variants), a CPU tensor whatever the input's device."""

    def __init__(self, model: torch.nn.Module, x: torch.Tensor):
        super().__init__()
        import onnxruntime as ort

        class First(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m
                self.train(m.training)

            def forward(self, t):
                return self.m(t)[0]

        buf = io.BytesIO()
        model.eval()
        torch.onnx.export(First(model), (x, ), buf, opset_version=17,
                          input_names=['x'], dynamo=False)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = torch.get_num_threads()
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            buf.getvalue(), opts, providers=['CPUExecutionProvider'])

    def forward(self, x: torch.Tensor):
        out, = self.session.run(None, {'x': x.detach().cpu().numpy()})
        return (torch.from_numpy(out), )


IMPLEMENTATIONS = ('mmpose', 'ours', 'hrnet-w32', 'hrnet-w48')
VARIANT_OPTIONS = ('deploy', 'compile', 'blocks', 'cudagraphs',
                   'channels_last', 'onnx')


class VariantError(ValueError):
    """A variant that does not exist or cannot run as asked."""


def check_variant(name: str, mode: str, device: str) -> None:
    """Raise :class:`VariantError`, naming the reason, for a variant that
    does not exist or cannot run as asked (see the module doc)."""
    impl, *options = name.split('+')
    if impl not in IMPLEMENTATIONS or \
            any(o not in VARIANT_OPTIONS for o in options):
        raise VariantError(f'unknown variant {name!r}: one of '
                         f'{", ".join(IMPLEMENTATIONS)}, then any of '
                         f'+{", +".join(VARIANT_OPTIONS)}')
    if mode == 'train' and {'deploy', 'onnx'} & set(options):
        raise VariantError(f'{name}: +deploy and +onnx are inference only')
    if 'deploy' in options and impl != 'ours':
        raise VariantError(f'{name}: +deploy is ours (mmpose has no fuse())')
    if 'cudagraphs' in options and (
            device != 'cuda' or not {'compile', 'blocks'} & set(options)):
        raise VariantError(f'{name}: +cudagraphs needs --device cuda and '
                         f'+compile or +blocks')
    if 'onnx' in options and {'compile', 'blocks'} & set(options):
        raise VariantError(f'{name}: +onnx runs in onnxruntime, not compiled')


def mmpose_block_classes(impl: str) -> tuple:
    """The repeated blocks of mmpose's HRFormer / HRNet, for +blocks."""
    from mmpose.models.backbones.hrformer import HRFormerBlock
    from mmpose.models.backbones.resnet import BasicBlock, Bottleneck
    return (HRFormerBlock, ) if impl == 'mmpose' else (BasicBlock,
                                                       Bottleneck)


def build_variant(name: str, models: dict, x, mode: str,
                  compile_backend: str = 'inductor'):
    """``name`` = an implementation + ``+option`` s (see the module doc);
    ``models`` maps implementations to their eager modules, copied here."""
    check_variant(name, mode, x.device.type)
    impl, *options = name.split('+')
    model = copy.deepcopy(models[impl])
    model.eval()  # (mmpose's HRFormer.train() returns None: no chaining)
    if 'channels_last' in options:
        model = model.to(memory_format=torch.channels_last)
    if 'deploy' in options:
        with torch.no_grad():
            model.switch_to_deploy()
    if 'onnx' in options:
        model = OnnxBackbone(model, x)
    compile_kwargs = dict(backend=compile_backend)
    if 'cudagraphs' in options:
        compile_kwargs['mode'] = 'reduce-overhead'
    if 'blocks' in options:
        if impl == 'ours':
            model.compile_blocks(**compile_kwargs)
        else:
            compile_repeated_blocks(model, mmpose_block_classes(impl),
                                    **compile_kwargs)
    if 'compile' in options:
        compiled = compile_model(model, name, **compile_kwargs)
        # (no `or`: a compiled module's truth value calls len())
        model = model if compiled is None else compiled
    return model


def compile_model(model, name, **compile_kwargs):
    """torch.compile, or None with the reason printed."""
    try:
        return torch.compile(model, **compile_kwargs)
    except Exception as e:  # noqa: BLE001  reported, not hidden
        print(f'{name}: torch.compile failed: {e!r}', file=sys.stderr)
        return None


def default_variants(deploy: bool = False, compile: bool = False) -> list:
    """The variants of a run without ``--variants``: mmpose against ours,
    ``+deploy`` for ours with ``deploy``, ``+compile`` for both with
    ``compile``."""
    c = '+compile' if compile else ''
    return ['mmpose' + c, 'ours' + ('+deploy' if deploy else '') + c]


def build_backbone_variants(variants: Sequence[str], arch: str, shape,
                            batch: int, mode: str, device: str,
                            with_cp: bool = False,
                            compile_backend: str = 'inductor'):
    """The eager models of every implementation the variants name (mmpose's
    and ours with the same weights; ``with_cp`` for ours), each variant
    built from its copy, and the inputs: ``(eager, models, inputs, x)``,
    ``inputs`` per variant (channels-last where asked), ``x`` the common
    batch.  Refuses a bad variant before building anything."""
    for v in variants:
        check_variant(v, mode, device)
    ref, ours = build_pair(arch, device, with_cp=with_cp)
    x = torch.randn(batch, 3, *shape, device=device)
    eager = dict(mmpose=ref, ours=ours)
    for impl in {v.split('+')[0] for v in variants}:
        if impl.startswith('hrnet-'):
            eager[impl] = build_hrnet(impl.split('-')[1], device)
    for m in eager.values():
        m.eval()
    models = {v: build_variant(v, eager, x, mode, compile_backend)
              for v in variants}
    inputs = {v: x.contiguous(memory_format=torch.channels_last)
              if 'channels_last' in v else x for v in variants}
    return eager, models, inputs, x


@torch.no_grad()
def check_outputs(eager: dict, models: dict, inputs: dict,
                  x: torch.Tensor) -> Dict[str, float]:
    """Max abs difference of every variant's first output from its eager
    model's, in fp32 eval mode, on the eager model's device (``+onnx``
    variants answer on the host); ours against mmpose's (the same function
    with the same weights).  A variant without options other than ours
    (``mmpose``, ``hrnet-w32``) is its eager model's copy: its row only
    shows that copying kept it.  The first call of each compiled variant
    compiles it."""
    expected = {k: m(x)[0] for k, m in eager.items() if k != 'ours'}
    expected['ours'] = expected['mmpose']
    diff = {}
    for v, m in models.items():
        ref = expected[v.split('+')[0]]
        diff[v] = (m(inputs[v])[0].to(ref.device) - ref).abs().max().item()
    return diff


def backbone_steps(models: dict, inputs: dict, mode: str,
                   amp: Optional[str] = None) -> dict:
    """One :func:`step_fn` per variant."""
    return {k: step_fn(m, inputs[k], mode, amp, cudagraphs='cudagraphs' in k)
            for k, m in models.items()}


def attention_steps(arch: str, shape, batch: int, mode: str, device: str,
                    amp: Optional[str] = None) -> dict:
    """Steps of one window-attention layer of ``arch``'s highest-resolution
    stream (input / 4), mmpose's and ours with the same weights and the
    same input."""
    a = HRFormer._resolve_arch(arch)
    C, H, W = a['channels'][0], shape[0] // 4, shape[1] // 4
    ref, ours = build_attention_pair(C, a['num_heads'][0],
                                     a['window_sizes'][0], device)
    x = torch.randn(batch, H, W, C, device=device,
                    requires_grad=mode == 'train')
    return dict(
        mmpose=step_fn(ref, x, mode, amp,
                       lambda m, t: m(t.flatten(1, 2), H, W)),
        ours=step_fn(ours, x, mode, amp, lambda m, t: m(t)))


def time_steps(steps: dict, device: str, iters: int, warmup: int = 2,
               memory: bool = False, profile: int = 0,
               count_ops: bool = False):
    """Median seconds per step of each variant, the steps interleaved:
    ``(median, extra)``.  ``extra`` holds ``first_step_s`` (each variant's
    first step alone, always run: the compile time of compiled variants),
    ``peak_memory_mb`` (with ``memory``) and ``ops_per_step`` (with
    ``count_ops``: :func:`count_step` of each variant after its untimed
    steps); ``profile`` N prints each variant's N most expensive operators.

    ``peak_memory_mb`` is the largest :func:`peak_memory` of the untimed
    steps after the first (the ``warmup - 1`` others and one more).  A CUDA
    graph allocates its memory while it is captured, the step after its
    warm-up (the first), into a pool it then holds; its replays allocate
    nothing.  The first step is left out: it also allocates what stays
    (AdamW's state, compiled code)."""
    extra = dict(first_step_s={k: round(timed(s, device), 2)
                               for k, s in steps.items()})
    peak = dict.fromkeys(steps, 0)

    def untimed(k, s):
        if memory:
            peak[k] = max(peak[k], peak_memory(s, device))
        else:
            s()

    for _ in range(warmup - 1):
        for k, s in steps.items():
            untimed(k, s)
    if memory:
        for k, s in steps.items():
            untimed(k, s)
        extra['peak_memory_mb'] = {k: v / 2**20 for k, v in peak.items()}
    if count_ops:
        extra['ops_per_step'] = {k: count_step(s) for k, s in steps.items()}
    if profile:
        for k, s in steps.items():
            print_profile(k, s, device, profile)
    times = {k: [] for k in steps}
    for _ in range(iters):
        for k, s in steps.items():
            times[k].append(timed(s, device))
    return {k: statistics.median(v) for k, v in times.items()}, extra


def graph_breaks() -> int:
    """Graph breaks torch.compile has counted in this process so far."""
    from torch._dynamo.utils import counters
    return sum(counters['graph_break'].values())


def report(med: Dict[str, float], batch: int, **fields) -> dict:
    """The result: ``fields`` (the run's settings and measurements), the
    batch size, ms per image and images/s of each variant, each variant's
    time over the reference's (eager mmpose, else mmpose's fastest
    variant, else the first) and, under ``best``, the fastest variant of
    ours against mmpose's fastest and against each HRNet row present."""
    result = dict(
        fields, batch=batch,
        ms_per_image={k: 1e3 * v / batch for k, v in med.items()},
        images_per_s={k: batch / v for k, v in med.items()})
    ref_key = 'mmpose' if 'mmpose' in med else min(
        (k for k in med if k.startswith('mmpose')), key=med.get,
        default=next(iter(med)))
    result['time_ratio_over_' + ref_key] = {
        k: v / med[ref_key] for k, v in med.items()}
    best = {impl: min((k for k in med if k.split('+')[0] == impl),
                      key=med.get, default=None)
            for impl in IMPLEMENTATIONS}
    if best['ours'] and best['mmpose']:
        result['best'] = dict(
            ours=best['ours'], mmpose=best['mmpose'],
            time_ratio_ours_over_mmpose=med[best['ours']] /
            med[best['mmpose']],
            images_per_s_ratio_ours_over_mmpose=med[best['mmpose']] /
            med[best['ours']])
    for impl in IMPLEMENTATIONS[2:]:
        if best['ours'] and best[impl]:
            result.setdefault('best', {})[
                f'images_per_s_ratio_ours_over_{impl}'] = \
                med[best[impl]] / med[best['ours']]
    return result
