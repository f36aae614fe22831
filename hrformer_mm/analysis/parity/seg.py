"""Our HRFormer segmentation configs against the reference segmentation
release.

The reference release (github.com/HRNet/HRFormer, ``seg/``) is the code behind
every published HRFormer mIoU.  Its backbone and its whole OCR model
(``seg/lib/models/nets/hrt.py``, ``HRT_{SMALL,BASE}_OCR_V2``) get seeded
random weights in its own key scheme; ``hrformer_mm.models.backbones.
hrformer_weights`` converts them (what loading them does) and the model of
this project's config loads them strictly; then both compute, in eval
mode, the four backbone streams, the auxiliary logits and the OCR logits
(at 1/4 and at input size, as the reference returns them).

The golden record (``tests/data/hrformer_seg_golden.pt``) holds the outputs
of a small model (HRFormer-S widths, one module per stage; the backbone
streams and both heads' logits at 1/4), the key names and shapes of the
reference weights and the seed that regenerates them.
"""
import contextlib
import os.path as osp
import sys
import types

import torch
import torch.nn.functional as F

from hrformer_mm.testing import seeded_state, state_spec

from . import ReferenceCheckoutError, reference_on_path

#: our config -> (reference backbone arch, reference model class)
VARIANTS = {
    'configs/seg/hrformer_s_ocr_ade20k.py': ('hrt_small', 'HRT_SMALL_OCR_V2'),
    'configs/seg/hrformer_b_ocr_ade20k.py': ('hrt_base', 'HRT_BASE_OCR_V2'),
    'configs/seg/hrformer_b_ocr_w13_ade20k.py':
    ('hrt_base_win13', 'HRT_BASE_OCR_V2'),
    'configs/seg/hrformer_b_ocr_w15_cityscapes.py':
    ('hrt_base_win15', 'HRT_BASE_OCR_V2'),
}

#: The golden model: HRFormer-S widths (the reference OCR class hard-codes
#: its 480 input channels), one module per stage, one block per branch.
GOLDEN_ARCH = dict(channels=(32, 64, 128, 256), num_heads=(1, 2, 4, 8),
                   num_modules=(1, 1, 1), num_blocks=1)
GOLDEN_CLASSES = 5
GOLDEN_SIZES = ((32, 32), (40, 24))  # the second: not a multiple of 32
GOLDEN_SEED = 0


def import_reference(ref_dir: str) -> types.SimpleNamespace:
    """Import the reference backbone and OCR nets from a checkout."""
    seg = osp.join(ref_dir, 'seg')
    if not osp.isfile(osp.join(seg, 'lib', 'models', 'nets', 'hrt.py')):
        raise ReferenceCheckoutError(
            f'{ref_dir} is not a checkout of github.com/HRNet/HRFormer '
            f'(no seg/lib/models/nets/hrt.py)')
    # torchvision removed models.utils in 0.13; the reference imports it.
    utils = types.ModuleType('torchvision.models.utils')
    utils.load_state_dict_from_url = torch.hub.load_state_dict_from_url
    sys.modules.setdefault('torchvision.models.utils', utils)
    # nets/hrt.py asks BackboneSelector, which imports every backbone of the
    # openseg codebase, for its backbone: hand it the one under test.
    selector = types.ModuleType('lib.models.backbones.backbone_selector')

    class BackboneSelector:

        def __init__(self, configer):
            self.configer = configer

        def get_backbone(self):
            return self.configer.backbone

    selector.BackboneSelector = BackboneSelector
    sys.modules['lib.models.backbones.backbone_selector'] = selector
    try:
        with reference_on_path(seg):
            from lib.models.backbones.hrt import hrt_backbone, hrt_config
            from lib.models.nets import hrt as nets
    except ImportError as e:
        raise ReferenceCheckoutError(
            f'cannot import the reference code ({e}); it needs einops, yacs '
            f'and timm: pip install --target DIR einops yacs timm and put '
            f'DIR on PYTHONPATH') from e
    return types.SimpleNamespace(
        backbone=hrt_backbone.HighResolutionTransformer,
        configs=hrt_config.MODEL_CONFIGS, nets=nets)


@contextlib.contextmanager
def plain_batchnorm():
    """The reference builds nn.SyncBatchNorm, which needs a process group;
    the same parameters in nn.BatchNorm2d run in one CPU process."""
    sync = torch.nn.SyncBatchNorm
    torch.nn.SyncBatchNorm = torch.nn.BatchNorm2d
    try:
        yield
    finally:
        torch.nn.SyncBatchNorm = sync


class _Configer:
    """The two settings the reference OCR nets read from openseg's
    ``Configer``, plus the backbone for the stand-in selector."""

    def __init__(self, num_classes: int, backbone: torch.nn.Module):
        self.backbone = backbone
        self._values = {('data', 'num_classes'): num_classes,
                        ('network', 'bn_type'): 'torchbn'}

    def get(self, *keys):
        return self._values[keys]


def reference_cfg(arch: dict, window_size: int = 7) -> dict:
    """The reference's ``MODEL_CONFIGS`` entry for an hrformer_mm arch."""
    cfg = dict(DROP_PATH_RATE=0.,
               STAGE1=dict(NUM_MODULES=1, NUM_BRANCHES=1, NUM_BLOCKS=[2],
                           NUM_CHANNELS=[64], BLOCK='BOTTLENECK'))
    for stage, modules in zip((2, 3, 4), arch['num_modules']):
        cfg[f'STAGE{stage}'] = dict(
            NUM_MODULES=modules, NUM_BRANCHES=stage,
            NUM_BLOCKS=[arch['num_blocks']] * stage,
            NUM_CHANNELS=list(arch['channels'][:stage]),
            NUM_HEADS=list(arch['num_heads'][:stage]),
            NUM_MLP_RATIOS=[4] * stage, NUM_WINDOW_SIZES=[window_size] * stage,
            BLOCK='TRANSFORMER_BLOCK')
    return cfg


def build_reference(ref, backbone_cfg, net_class: str, num_classes: int,
                    seed: int, calibrate_size=None):
    """The reference OCR model with seeded weights (eval mode) and its state
    dict, in the reference key scheme.

    With ``calibrate_size`` (H, W) the BatchNorm running statistics are then
    re-estimated on random images of that size, as training leaves them:
    activations stay of order one through the whole network, as in a
    trained checkpoint, instead of growing with depth.
    """
    with plain_batchnorm():
        backbone = ref.backbone(backbone_cfg)
        model = getattr(ref.nets, net_class)(_Configer(num_classes, backbone))
    own = model.state_dict()
    state = seeded_state(state_spec(own), seed)
    # integer buffers (relative_position_index) are derived, not weights
    state.update({k: v for k, v in own.items() if not v.is_floating_point()})
    model.load_state_dict(state, strict=True)
    if calibrate_size is not None:
        calibrate_batchnorm(model, calibrate_size, seed)
        state = model.state_dict()
    return model.eval(), state


@torch.no_grad()
def calibrate_batchnorm(model, size, seed: int, batches: int = 2) -> None:
    norms = [m for m in model.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches
    g = torch.Generator().manual_seed(seed + 2)
    model.train()
    # the reference's drop path and dropout draw from the global generator
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for _ in range(batches):
            model(torch.randn(2, 3, *size, generator=g))
    model.eval()


def build_ours(config: str, state: dict, arch: dict = None,
               num_classes: int = None, dtype: torch.dtype = torch.float32):
    """This project's model of ``config`` in ``dtype``, with the reference
    weights converted and loaded strictly."""
    from mmengine.config import Config

    from hrformer_mm.config_helpers import ocr_heads
    from hrformer_mm.engine.launch import build_model_from_config
    from hrformer_mm.models.backbones.hrformer_weights import \
        hrformer_checkpoint_filter
    cfg = Config.fromfile(config)
    if arch is not None:
        cfg.model.backbone.arch = arch
        cfg.model.decode_head = ocr_heads(arch['channels'], num_classes,
                                          dict(type='BN'))
    _, model = build_model_from_config(cfg)
    model.to(dtype)  # before loading: loading casts to the model's dtype
    converted, report = hrformer_checkpoint_filter(state, model.backbone,
                                                   src='official')
    if report.release != 'segmentation':
        raise ValueError('not a reference segmentation checkpoint:\n'
                         + report.summary())
    model.load_state_dict(converted, strict=True)
    return model.eval(), report


@torch.no_grad()
def reference_outputs(model, x: torch.Tensor) -> dict:
    """Backbone streams; auxiliary and OCR logits at 1/4 (``aux4``,
    ``out4``, caught on the reference's classifiers) and at input size
    (``aux``, ``out``, as the reference returns them)."""
    quarter = {}
    hooks = [getattr(model, name).register_forward_hook(
        lambda m, i, o, key=key: quarter.__setitem__(key, o.clone()))
        for name, key in (('aux_head', 'aux4'), ('cls_head', 'out4'))]
    streams = [s.clone() for s in model.backbone(x)]
    aux, out = model(x)
    for h in hooks:
        h.remove()
    return dict(streams=streams, aux=aux, out=out, **quarter)


@torch.no_grad()
def our_outputs(model, x: torch.Tensor) -> dict:
    """The same quantities from an mmseg CascadeEncoderDecoder, resized to
    the input as the reference does (bilinear, align_corners=True)."""
    streams = model.extract_feat(x)
    aux4 = model.decode_head[0].forward(streams)
    out4 = model.decode_head[1].forward(streams, aux4)

    def up(t):
        return F.interpolate(t, size=x.shape[-2:], mode='bilinear',
                             align_corners=True)

    return dict(streams=list(streams), aux4=aux4, out4=out4, aux=up(aux4),
                out=up(out4))


def magnitudes(outputs: dict) -> dict:
    mags = {f'stream{i}': s.abs().max().item()
            for i, s in enumerate(outputs['streams'])}
    mags.update({k: v.abs().max().item() for k, v in outputs.items()
                 if k != 'streams'})
    return mags


def max_diffs(ref: dict, ours: dict) -> dict:
    """Max abs difference per output both dicts have."""
    diffs = {f'stream{i}': (a - b).abs().max().item()
             for i, (a, b) in enumerate(zip(ref['streams'], ours['streams']))}
    for key in ('aux4', 'out4', 'aux', 'out'):
        if key in ref and key in ours:
            diffs[key] = (ref[key] - ours[key]).abs().max().item()
    return diffs


def golden_inputs(seed: int = GOLDEN_SEED):
    g = torch.Generator().manual_seed(seed + 1)
    return [torch.randn(1, 3, *s, generator=g) for s in GOLDEN_SIZES]


def write_golden(ref, path: str) -> None:
    from hrformer_mm.models.backbones import HRFormer
    arch = HRFormer._resolve_arch(GOLDEN_ARCH)
    model, state = build_reference(ref, reference_cfg(arch),
                                   'HRT_SMALL_OCR_V2', GOLDEN_CLASSES,
                                   GOLDEN_SEED)
    inputs = golden_inputs()
    outputs = [{k: v for k, v in reference_outputs(model, x).items()
                if k in ('streams', 'aux4', 'out4')} for x in inputs]
    torch.save(dict(arch=GOLDEN_ARCH, num_classes=GOLDEN_CLASSES,
                    seed=GOLDEN_SEED, sizes=GOLDEN_SIZES,
                    spec=state_spec(state), outputs=outputs), path)
    ours, _ = build_ours('configs/seg/hrformer_s_ocr_ade20k.py', state,
                         GOLDEN_ARCH, GOLDEN_CLASSES)
    for x, expected in zip(inputs, outputs):
        print(f'golden {tuple(x.shape[-2:])}:',
              max_diffs(expected, our_outputs(ours, x)))
    print(f'wrote {path}')


#: the tolerance of the float64 relative difference (float32's is the
#: tool's --tol): identical computations agree to rounding
FLOAT64_TOL = 1e-10


def compare(ref, config: str, sizes, seed: int = 0,
            calibrate: bool = True) -> dict:
    """The largest difference, relative to each output's magnitude, of
    ``config`` against its reference model, over inputs of ``sizes``
    (``(H, W)`` pairs), in float32 and in float64 (a dict by dtype); each
    size's differences are printed.

    ``calibrate`` re-estimates the reference's BatchNorm statistics on
    random 128 x 128 images first (activations then stay of order one
    through the network, as in a trained checkpoint)."""
    from mmengine.config import Config
    arch, net = VARIANTS[config]
    num_classes = Config.fromfile(config).model.decode_head[1].num_classes
    backbone_cfg = ref.configs[arch].clone()
    backbone_cfg.DROP_PATH_RATE = 0.
    model, state = build_reference(ref, backbone_cfg, net, num_classes, seed,
                                   (128, 128) if calibrate else None)
    worst = {torch.float32: 0., torch.float64: 0.}
    # the float64 model gets the weights converted in float64 too: the
    # folded conv biases are rounded once, in the precision compared
    ours = {dtype: build_ours(config, {
        k: v.to(dtype) if v.is_floating_point() else v
        for k, v in state.items()}, dtype=dtype)[0] for dtype in worst}
    print(f'  <- reference {arch} / {net}: {len(state)} tensors')
    for h, w in sizes:
        x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(1))
        for dtype in worst:
            model.to(dtype)
            expected = reference_outputs(model, x.to(dtype))
            diffs = max_diffs(expected, our_outputs(ours[dtype], x.to(dtype)))
            mags = magnitudes(expected)
            rel = max(diffs[k] / mags[k] for k in diffs)
            worst[dtype] = max(worst[dtype], rel)
            print(f'  {h}x{w} {str(dtype)[6:]}: max abs diff (max abs '
                  f'value) ' + ', '.join(
                      f'{k} {v:.1e} ({mags[k]:.1f})'
                      for k, v in diffs.items()) +
                  f'; worst relative {rel:.1e}')
    return worst
