"""Speed of this HRFormer against mmpose's, measured in one run, as a ratio.

    python tools/analysis/benchmark.py [--arch small] [--shape 256 192]
        [--batch 8] [--iters 10] [--mode train|infer] [--device cpu|cuda]
        [--amp] [--part backbone|attention] [--deploy] [--compile]
        [--with-cp] [--memory] [--profile N]

``--deploy`` folds our BatchNorms into the convolutions (inference only),
``--compile`` runs both models through ``torch.compile`` (graph breaks are
counted, a failure reported), ``--with-cp`` checkpoints our transformer
blocks (training; mmpose's run without it), ``--memory`` adds the peak
memory of one step (CUDA: ``max_memory_allocated``; CPU: the peak of the
running sum of tensor allocations and frees the torch profiler records
during the step, i.e. memory allocated on top of what was live before it),
``--profile N`` prints each model's N most expensive operators (self time).
A training step is forward, backward and an AdamW step.

``--part attention`` times one window-attention layer of the arch's
highest-resolution stream (input / 4) instead of the whole backbone.
Both models get the same weights (mmpose's state dict loaded into ours)
and the same inputs; timings alternate between the two so that drift of a
shared machine affects both alike.  Prints images/s of each and the ratio
(ours / mmpose; > 1 means faster).
"""
import argparse
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
from hrformer_mm.testing import mmpose_hrformer_extra  # noqa: E402


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


def step_fn(model, x, mode, amp, call=None):
    """``call(model, x)`` runs the model, returning a tensor (default: the
    backbone's first output)."""
    call = call or (lambda m, t: m(t)[0])
    if mode == 'train':
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        optim = torch.optim.AdamW(params, lr=1e-6) if params else None

        def step():
            with torch.autocast(x.device.type, enabled=amp):
                out = call(model, x)
            out.float().mean().backward()
            if optim is not None:
                optim.step()
                optim.zero_grad(set_to_none=True)
    else:
        model.eval()

        @torch.no_grad()
        def step():
            with torch.autocast(x.device.type, enabled=amp):
                call(model, x)
    return step


def timed(step, device):
    if device == 'cuda':
        torch.cuda.synchronize()
    t = time.perf_counter()
    step()
    if device == 'cuda':
        torch.cuda.synchronize()
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


def compile_model(model, name):
    """torch.compile, or None with the reason printed."""
    try:
        return torch.compile(model)
    except Exception as e:  # noqa: BLE001  reported, not hidden
        print(f'{name}: torch.compile failed: {e!r}', file=sys.stderr)
        return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--arch', default='small')
    p.add_argument('--shape', type=int, nargs=2, default=(256, 192))
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--iters', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--mode', choices=['train', 'infer'], default='train')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available()
                   else 'cpu')
    p.add_argument('--amp', action='store_true')
    p.add_argument('--part', choices=['backbone', 'attention'],
                   default='backbone')
    p.add_argument('--deploy', action='store_true')
    p.add_argument('--compile', action='store_true')
    p.add_argument('--with-cp', action='store_true')
    p.add_argument('--memory', action='store_true')
    p.add_argument('--profile', type=int, default=0, metavar='N')
    args = p.parse_args(argv)
    if args.deploy and args.mode == 'train':
        p.error('--deploy folds BatchNorm: inference only')

    torch.manual_seed(0)
    extra = {}
    if args.part == 'backbone':
        ref, ours = build_pair(args.arch, args.device, with_cp=args.with_cp)
        x = torch.randn(args.batch, 3, *args.shape, device=args.device)
        ref.eval(), ours.eval()
        with torch.no_grad():
            if args.deploy:
                ours.switch_to_deploy()
            extra['max_abs_diff'] = (ref(x)[0] - ours(x)[0]).abs().max(
            ).item()
        models = dict(mmpose=ref, hrformer_mm=ours)
        if args.compile:
            from torch._dynamo.utils import counters
            models = {k: compile_model(m, k) or m for k, m in models.items()}
            with torch.no_grad():
                extra['compiled_max_abs_diff'] = (
                    models['mmpose'](x)[0] -
                    models['hrformer_mm'](x)[0]).abs().max().item()
        steps = {k: step_fn(m, x, args.mode, args.amp)
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
            hrformer_mm=step_fn(ours, x, args.mode, args.amp,
                                lambda m, t: m(t)))
    for _ in range(args.warmup):
        for s in steps.values():
            s()
    if args.compile:
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
        deploy=args.deploy, compile=args.compile, with_cp=args.with_cp,
        threads=torch.get_num_threads(),
        ms_per_image={k: 1e3 * v / args.batch for k, v in med.items()},
        images_per_s={k: args.batch / v for k, v in med.items()},
        ratio_ours_over_mmpose=med['mmpose'] / med['hrformer_mm'],
        **extra)
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
