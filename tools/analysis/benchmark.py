"""Speed of this HRFormer against mmpose's, measured in one run, as a ratio.

Prints, as JSON, ms per image and images/s of each variant, each variant's
time over eager mmpose's (< 1 means faster) and the best-vs-best ratios.
The variants, how they are built and checked, and the timing are described
in hrformer_mm/analysis/benchmark.py; on the GPU each step is timed with
CUDA events.  Example:

    python tools/analysis/benchmark.py --arch small --mode infer \\
        --variants mmpose ours ours+deploy ours+blocks+cudagraphs hrnet-w32
"""
import argparse
import json
import os.path as osp
import runpy
import sys
import time

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '..', '_preamble.py'))

import torch  # noqa: E402

import hrformer_mm  # noqa: E402,F401
from hrformer_mm.analysis import benchmark as bench  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--arch', default='small',
                   help='HRFormer arch of both implementations')
    p.add_argument('--shape', type=int, nargs=2, default=(256, 192),
                   metavar=('H', 'W'), help='input height and width '
                   '(multiples of 32: mmpose pads nothing)')
    p.add_argument('--batch', type=int, default=8, help='images per step')
    p.add_argument('--iters', type=int, default=10,
                   help='timed steps per variant (the median is reported)')
    p.add_argument('--warmup', type=int, default=2,
                   help='untimed steps first; the first one (always run) '
                   'is reported as first_step_s: a compiled variant\'s '
                   'compile time')
    p.add_argument('--mode', choices=['train', 'infer'], default='train',
                   help='train: forward, backward and an AdamW step; '
                   'infer: forward without gradients')
    p.add_argument('--device', choices=['cpu', 'cuda'], default='cpu',
                   help='cpu (the default, on any machine: a command '
                   'measures the same thing everywhere) or cuda')
    p.add_argument('--amp', nargs='?', const='bf16', choices=['bf16', 'fp16'],
                   default=None,
                   help='run every variant under autocast (bare --amp: bf16)')
    p.add_argument('--part', choices=['backbone', 'attention'],
                   default='backbone',
                   help='the whole backbone, or one window-attention layer '
                   'of the highest-resolution stream (input / 4)')
    p.add_argument('--deploy', action='store_true',
                   help='without --variants: ours with its BatchNorms folded '
                   'into the convolutions (inference only)')
    p.add_argument('--compile', action='store_true',
                   help='without --variants: both models through '
                   'torch.compile (graph breaks counted, a failure reported)')
    p.add_argument('--with-cp', action='store_true',
                   help='checkpoint our transformer blocks (training; '
                   'mmpose\'s run without it)')
    p.add_argument('--memory', action='store_true',
                   help='add the peak memory of a step on top of what was '
                   'live before it, the largest over the untimed steps '
                   'after the first, so that a CUDA graph counts the pool '
                   'its capture fills (CUDA: max_memory_allocated; CPU: '
                   'the torch profiler\'s allocations and frees)')
    p.add_argument('--profile', type=int, default=0, metavar='N',
                   help='print each variant\'s N most expensive operators '
                   '(self time) to stderr')
    p.add_argument('--count-ops', action='store_true',
                   help='count what one step of each variant dispatches: '
                   'aten operator calls (with a digest of the operators, '
                   'shapes and strides) and Python function calls; '
                   'deterministic, for comparing two commits on a noisy '
                   'machine')
    p.add_argument('--compile-backend', default='inductor',
                   help='torch.compile backend of the compiled variants')
    p.add_argument('--variants', nargs='+', default=None,
                   help='implementations (mmpose, ours, hrnet-w32, '
                   'hrnet-w48), each with any of +compile, +blocks, '
                   '+cudagraphs, +channels_last, +onnx, +deploy (ours), '
                   'e.g. mmpose mmpose+compile ours+deploy '
                   'ours+blocks+cudagraphs; timed in one interleaved run')
    args = p.parse_args(argv)
    if args.deploy and args.mode == 'train':
        p.error('--deploy folds BatchNorm: inference only')
    if args.variants and args.part != 'backbone':
        p.error('--variants times whole backbones (--part backbone)')
    if args.variants and (args.deploy or args.compile):
        p.error('with --variants, name +deploy / +compile per variant')
    args.variants = args.variants or bench.default_variants(args.deploy,
                                                            args.compile)
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.manual_seed(0)
    extra = {}
    breaks = bench.graph_breaks()
    if args.part == 'backbone':
        try:
            eager, models, inputs, x = bench.build_backbone_variants(
                args.variants, args.arch, args.shape, args.batch, args.mode,
                args.device, args.with_cp, args.compile_backend)
        except bench.VariantError as e:
            sys.exit(str(e))
        t0 = time.perf_counter()
        extra['max_abs_diff'] = bench.check_outputs(eager, models, inputs, x)
        extra['first_call_s'] = round(time.perf_counter() - t0, 1)
        steps = bench.backbone_steps(models, inputs, args.mode, args.amp)
    else:
        steps = bench.attention_steps(args.arch, args.shape, args.batch,
                                      args.mode, args.device, args.amp)
    med, timing = bench.time_steps(steps, args.device, args.iters,
                                   args.warmup, args.memory, args.profile,
                                   args.count_ops)
    if any('compile' in v or 'blocks' in v for v in steps):
        extra['graph_breaks'] = bench.graph_breaks() - breaks
    result = bench.report(
        med, args.batch, part=args.part, arch=args.arch,
        shape=list(args.shape), mode=args.mode,
        device=args.device, amp=args.amp, with_cp=args.with_cp,
        threads=torch.get_num_threads(), **extra, **timing)
    print(json.dumps(result, indent=1))
    return result


if __name__ == '__main__':
    main()
