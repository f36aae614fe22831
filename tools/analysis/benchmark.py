"""Speed of this HRFormer against mmpose's, measured in one run, as a ratio.

    python tools/analysis/benchmark.py [--arch small] [--shape 256 192]
        [--batch 8] [--iters 10] [--mode train|infer] [--device cpu|cuda]
        [--amp [bf16|fp16]] [--part backbone|attention] [--deploy]
        [--compile] [--with-cp] [--memory] [--profile N]
        [--variants mmpose ours ours+blocks+cudagraphs hrnet-w32 ...]

``--variants`` times any set of ways to run each implementation in one
interleaved run.  Implementations: ``mmpose`` (mmpose's HRFormer),
``ours`` (same weights), and as reference rows mmpose's ``hrnet-w32`` /
``hrnet-w48`` (the CNNs of similar COCO AP; their own random weights).
Options, joined with ``+``: ``compile`` (torch.compile of the whole
backbone), ``blocks`` (each repeated block compiled on its own: ours'
``compile_cfg`` fast path; for mmpose's models the same done to their
blocks), ``cudagraphs`` (compile / blocks with mode 'reduce-overhead';
CUDA only), ``channels_last`` (model and input in channels-last memory
format), ``onnx`` (exported with torch.onnx, run by onnxruntime with the
same thread count; inference only) and, for ours, ``deploy`` (BatchNorm
folded, conv + activation fused; inference only).  The report gives every
variant's time relative to eager mmpose, the fastest variant of ours
against mmpose's fastest, and against each HRNet row present (``best``).
Without ``--variants`` the run compares mmpose (``+compile`` with
``--compile``) against ours (``+deploy`` with ``--deploy``, ``+compile``
with ``--compile``).

``--deploy`` folds our BatchNorms into the convolutions (inference only),
``--compile`` runs both models through ``torch.compile`` (graph breaks are
counted, a failure reported), ``--with-cp`` checkpoints our transformer
blocks (training; mmpose's run without it), ``--memory`` adds the peak
memory of one step (CUDA: ``max_memory_allocated``; CPU: the peak of the
running sum of tensor allocations and frees the torch profiler records
during the step, i.e. memory allocated on top of what was live before it),
``--profile N`` prints each model's N most expensive operators (self time),
``--amp`` runs every variant under autocast (bf16 unless ``--amp fp16``).
``first_step_s`` is each variant's first timed-mode step (warm-up), i.e.
its compile time for compiled variants.
A training step is forward, backward and an AdamW step.  On the GPU each
step is timed with CUDA events.

``--part attention`` times one window-attention layer of the arch's
highest-resolution stream (input / 4) instead of the whole backbone.
Both models get the same weights (mmpose's state dict loaded into ours)
and the same inputs; timings alternate between the two so that drift of a
shared machine affects both alike.  Prints ms per image and images/s of
each variant, each variant's time over eager mmpose's (< 1 means faster)
and the best-vs-best ratios.
"""
import argparse
import copy
import io
import json
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import torch  # noqa: E402

import hrformer_mm  # noqa: E402,F401
from hrformer_mm.models.backbones import HRFormer  # noqa: E402
from hrformer_mm.models.backbones.base import \
    compile_repeated_blocks  # noqa: E402
from hrformer_mm.testing import (hrnet_extra,  # noqa: E402
                                 mmpose_hrformer_extra)


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
    """Bytes allocated by one step on top of what was live before it."""
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


class OnnxBackbone(torch.nn.Module):
    """A backbone exported to ONNX, run by onnxruntime: ``(x) -> (out0, )``
    (the first output only, as timed for the other variants)."""

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


def check_variant(name: str, mode: str, device: str) -> None:
    """Refuse, naming the reason, a variant that does not exist or cannot
    run as asked (see the module doc)."""
    impl, *options = name.split('+')
    if impl not in IMPLEMENTATIONS or \
            any(o not in VARIANT_OPTIONS for o in options):
        raise SystemExit(f'unknown variant {name!r}: one of '
                         f'{", ".join(IMPLEMENTATIONS)}, then any of '
                         f'+{", +".join(VARIANT_OPTIONS)}')
    if mode == 'train' and {'deploy', 'onnx'} & set(options):
        raise SystemExit(f'{name}: +deploy and +onnx are inference only')
    if 'deploy' in options and impl != 'ours':
        raise SystemExit(f'{name}: +deploy is ours (mmpose has no fuse())')
    if 'cudagraphs' in options and (
            device != 'cuda' or not {'compile', 'blocks'} & set(options)):
        raise SystemExit(f'{name}: +cudagraphs needs --device cuda and '
                         f'+compile or +blocks')
    if 'onnx' in options and {'compile', 'blocks'} & set(options):
        raise SystemExit(f'{name}: +onnx runs in onnxruntime, not compiled')


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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--arch', default='small')
    p.add_argument('--shape', type=int, nargs=2, default=(256, 192))
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--iters', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2,
                   help='untimed steps first; the first one (always run) '
                   'is reported as first_step_s')
    p.add_argument('--mode', choices=['train', 'infer'], default='train')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available()
                   else 'cpu')
    p.add_argument('--amp', nargs='?', const='bf16', choices=['bf16', 'fp16'],
                   default=None, help='autocast (bare --amp: bf16)')
    p.add_argument('--part', choices=['backbone', 'attention'],
                   default='backbone')
    p.add_argument('--deploy', action='store_true')
    p.add_argument('--compile', action='store_true')
    p.add_argument('--with-cp', action='store_true')
    p.add_argument('--memory', action='store_true')
    p.add_argument('--profile', type=int, default=0, metavar='N')
    p.add_argument('--compile-backend', default='inductor',
                   help='torch.compile backend of the +compile variants')
    p.add_argument('--variants', nargs='+', default=None,
                   help='e.g. mmpose mmpose+compile ours+deploy '
                   'ours+blocks+cudagraphs ours+onnx hrnet-w32 (module doc)')
    args = p.parse_args(argv)
    if args.deploy and args.mode == 'train':
        p.error('--deploy folds BatchNorm: inference only')
    if args.variants and args.part != 'backbone':
        p.error('--variants times whole backbones (--part backbone)')
    if args.variants and (args.deploy or args.compile):
        p.error('with --variants, name +deploy / +compile per variant')
    if not args.variants:
        c = '+compile' if args.compile else ''
        args.variants = ['mmpose' + c,
                         'ours' + ('+deploy' if args.deploy else '') + c]

    torch.manual_seed(0)
    extra = {}
    if args.part == 'backbone':
        for v in args.variants:  # refuse before building anything
            check_variant(v, args.mode, args.device)
        ref, ours = build_pair(args.arch, args.device, with_cp=args.with_cp)
        x = torch.randn(args.batch, 3, *args.shape, device=args.device)
        eager = dict(mmpose=ref, ours=ours)
        for impl in {v.split('+')[0] for v in args.variants}:
            if impl.startswith('hrnet-'):
                eager[impl] = build_hrnet(impl.split('-')[1], args.device)
        for m in eager.values():
            m.eval()
        models = {v: build_variant(v, eager, x, args.mode,
                                   args.compile_backend)
                  for v in args.variants}
        inputs = {v: x.contiguous(memory_format=torch.channels_last)
                  if 'channels_last' in v else x for v in args.variants}
        # every variant's output against its eager model's in fp32 eval
        # mode (ours against mmpose's: the same function), first
        t0 = time.perf_counter()
        with torch.no_grad():
            expected = {k: m(x)[0] for k, m in eager.items()
                        if k != 'ours'}
            expected['ours'] = expected['mmpose']
            extra['max_abs_diff'] = {
                v: (m(inputs[v])[0] - expected[v.split('+')[0]]).abs().max()
                .item() for v, m in models.items()}
        extra['first_call_s'] = round(time.perf_counter() - t0, 1)
        steps = {k: step_fn(m, inputs[k], args.mode, args.amp,
                            cudagraphs='cudagraphs' in k)
                 for k, m in models.items()}
    else:
        arch = HRFormer._resolve_arch(args.arch)
        C, H, W = arch['channels'][0], args.shape[0] // 4, args.shape[1] // 4
        ref, ours = build_attention_pair(C, arch['num_heads'][0],
                                         arch['window_size'][0], args.device)
        x = torch.randn(args.batch, H, W, C, device=args.device,
                        requires_grad=args.mode == 'train')
        steps = dict(
            mmpose=step_fn(ref, x, args.mode, args.amp,
                           lambda m, t: m(t.flatten(1, 2), H, W)),
            ours=step_fn(ours, x, args.mode, args.amp, lambda m, t: m(t)))
    # the first step of each variant, alone: for compiled variants, the
    # compile time of the timed mode (training or inference)
    extra['first_step_s'] = {k: round(timed(s, args.device), 2)
                             for k, s in steps.items()}
    for _ in range(args.warmup - 1):
        for s in steps.values():
            s()
    if any('compile' in v or 'blocks' in v for v in steps):
        from torch._dynamo.utils import counters
        extra['graph_breaks'] = sum(counters['graph_break'].values())
    if args.memory:
        extra['peak_memory_mb'] = {
            k: peak_memory(s, args.device) / 2**20 for k, s in steps.items()}
    for k, s in steps.items():
        if args.profile:
            print_profile(k, s, args.device, args.profile)
    times = {k: [] for k in steps}
    for _ in range(args.iters):
        for k, s in steps.items():
            times[k].append(timed(s, args.device))
    med = {k: statistics.median(v) for k, v in times.items()}
    result = dict(
        part=args.part, arch=args.arch, shape=list(args.shape),
        batch=args.batch,
        mode=args.mode, device=args.device, amp=args.amp,
        with_cp=args.with_cp, threads=torch.get_num_threads(),
        ms_per_image={k: 1e3 * v / args.batch for k, v in med.items()},
        images_per_s={k: args.batch / v for k, v in med.items()},
        **extra)
    # the reference: eager mmpose, else its fastest variant, else the first
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
    print(json.dumps(result, indent=1))
    return result


if __name__ == '__main__':
    main()
