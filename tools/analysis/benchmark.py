"""Speed of this HRFormer against mmpose's, measured in one run, as a ratio.

    python tools/analysis/benchmark.py [--arch small] [--shape 256 192]
        [--batch 8] [--iters 10] [--mode train|infer] [--device cpu|cuda]
        [--amp] [--part backbone|attention]

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


def build_pair(arch: str, device: str):
    from mmpose.models.backbones import HRFormer as MMPoseHRFormer
    ref = MMPoseHRFormer(mmpose_hrformer_extra(arch),
                         norm_cfg=dict(type='BN')).to(device)
    ours = HRFormer(arch, out_indices=(0, )).to(device)
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

        def step():
            with torch.autocast(x.device.type, enabled=amp):
                out = call(model, x)
            out.float().mean().backward()
            for p in params:
                p.grad = None
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
    args = p.parse_args(argv)

    torch.manual_seed(0)
    if args.part == 'backbone':
        ref, ours = build_pair(args.arch, args.device)
        x = torch.randn(args.batch, 3, *args.shape, device=args.device)
        steps = dict(mmpose=step_fn(ref, x, args.mode, args.amp),
                     hrformer_mm=step_fn(ours, x, args.mode, args.amp))
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
    times = {k: [] for k in steps}
    for _ in range(args.iters):
        for k, s in steps.items():
            times[k].append(timed(s, args.device))
    med = {k: statistics.median(v) for k, v in times.items()}
    result = dict(
        part=args.part, arch=args.arch, shape=list(args.shape),
        batch=args.batch,
        mode=args.mode, device=args.device, amp=args.amp,
        threads=torch.get_num_threads(),
        images_per_s={k: args.batch / v for k, v in med.items()},
        ratio_ours_over_mmpose=med['mmpose'] / med['hrformer_mm'])
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
