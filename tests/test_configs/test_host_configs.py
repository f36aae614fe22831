"""The hosts' own HRFormer / HRNet configs, as the mmpose, mmseg and mmdet
wheels ship them, with only the backbone ``type`` switched to
``hrformer_mm.HRFormer`` / ``hrformer_mm.HRNet``: they build, take the host
model's state dict with strict loading, and compute the host model's
outputs (backbone, and the whole model for pose and seg; backbone + neck
for det).  Then the rules of the hosts' ``extra=`` form: how the host is
recognised, what is refused, and the hosts' other arguments."""
import copy
import glob
import importlib
import json
import os
import re
from functools import lru_cache

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import hrformer_mm  # noqa: F401
from hrformer_mm.models.backbones import HRFormer, HRNet
from hrformer_mm.testing import hrnet_extra, mmpose_hrformer_extra

HOSTS = ('mmpose', 'mmseg', 'mmdet')
HOST_TYPES = ('HRNet', 'HRFormer')


def _configs_root(host):
    module = importlib.import_module(host)
    return os.path.join(os.path.dirname(module.__file__), '.mim', 'configs')


@lru_cache()
def _host_backbones():
    """Every distinct HRNet / HRFormer backbone of the hosts' released
    configs: ``(host, backbone dict as JSON) -> [config paths]``."""
    found = {}
    for host in HOSTS:
        root = _configs_root(host)
        for path in sorted(glob.glob(f'{root}/**/*hr*.py', recursive=True)):
            if '_base_' in path:
                continue
            backbone = Config.fromfile(path).model.get('backbone')
            if not backbone or backbone.get('type') not in HOST_TYPES:
                continue
            backbone = backbone.to_dict()
            backbone.pop('init_cfg', None)  # no downloads
            key = (host, json.dumps(backbone, sort_keys=True))
            found.setdefault(key, []).append(os.path.relpath(path, root))
    return found


def _kind(backbone):
    """A backbone dict without what only scales it (widths, heads), what
    the host ignores (transformer keys in stage 1) and what acts in
    training only (drop path)."""
    kind = copy.deepcopy(backbone)
    kind['extra'].pop('drop_path_rate', None)
    for name, stage in kind['extra'].items():
        if isinstance(stage, dict):
            for key in ('num_channels', 'num_heads') + (
                    ('mlp_ratios', 'num_mlp_ratios') if name == 'stage1'
                    else ()):
                stage.pop(key, None)
    return json.dumps(kind, sort_keys=True)


def _backbone_cases():
    """One case per kind of backbone among the wheels' configs (the host's
    class, options, block counts, fusion), at its narrowest width: W18 /
    W32 stand for W40 / W48 and HRFormer-S for -B, whose parity the whole
    models below show."""
    narrowest = {}
    for (host, key), paths in _host_backbones().items():
        backbone = json.loads(key)
        width = sum(backbone['extra']['stage4']['num_channels'])
        kind = (host, _kind(backbone))
        if kind not in narrowest or width < narrowest[kind][0]:
            narrowest[kind] = (width, backbone, paths[0])
    return [pytest.param(host, backbone, id=f'{host}:{path}')
            for (host, _), (_, backbone, path) in sorted(narrowest.items())]


def _host_outputs(host, backbone):
    """How many streams the host's HRNet / HRFormer returns for a config."""
    if host == 'mmpose':
        return 4 if backbone['extra']['stage4'].get('multiscale_output') \
            else 1
    return 4 if backbone.get('multiscale_output', True) else 1


def _registry(host):
    return importlib.import_module(f'{host}.registry').MODELS


def _randomise(model):
    """Random weights, biases and BN statistics, so that no wrong wiring can
    hide behind ones and zeros."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.05 * torch.randn_like(p) + (p if p.dim() == 1 else 0))
        for name, b in model.named_buffers():
            if name.endswith('running_mean'):
                b.copy_(0.1 * torch.randn_like(b))
            elif name.endswith('running_var'):
                b.copy_(torch.rand_like(b) * 0.5 + 0.75)


def _host_state(model):
    # mmpose's HRFormer saves its derived relative_position_index buffers
    return {k: v for k, v in model.state_dict().items()
            if not k.endswith('relative_position_index')}


def _switched(cfg):
    cfg = copy.deepcopy(cfg)
    cfg['type'] = f"hrformer_mm.{cfg['type']}"
    return cfg


def _build_pair(host, cfg, backbone_of=lambda m: m):
    """The host's model of ``cfg`` with random weights, and ours (backbone
    type switched) with the host's state dict loaded strictly, both eval."""
    registry = _registry(host)
    with DefaultScope.overwrite_default_scope(host):
        # mmpose's HRFormer writes into the extra dict it is given
        ref = registry.build(copy.deepcopy(cfg))
        ours_cfg = copy.deepcopy(cfg)
        if 'backbone' in ours_cfg:
            ours_cfg['backbone'] = _switched(ours_cfg['backbone'])
        else:
            ours_cfg = _switched(ours_cfg)
        ours = registry.build(ours_cfg)
    assert type(backbone_of(ours)) in (HRNet, HRFormer)
    _randomise(ref)
    ours.load_state_dict(_host_state(ref), strict=True)
    ref.eval()  # mmpose's HRNet.train() returns None
    return ref, ours.eval()


def _assert_same(expected, got):
    if isinstance(expected, torch.Tensor):
        expected, got = [expected], [got]
    assert len(expected) == len(got)
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        scale = e.abs().max().item()
        assert scale > 1e-3  # not a trivially zero output
        # fp32 rounding of the same sums in another order: 1e-5 relative
        assert (e - g).abs().max().item() <= 1e-5 * max(1., scale)


def test_the_wheels_carry_the_configs_this_file_checks():
    found = _host_backbones()
    hosts_types = {(h, json.loads(k)['type']) for h, k in found}
    assert hosts_types == {('mmpose', 'HRNet'), ('mmpose', 'HRFormer'),
                           ('mmseg', 'HRNet'), ('mmdet', 'HRNet')}
    # W18-small, W18, W32, W40, W48 and HRFormer-S / -B among them
    assert len(found) >= 12
    assert sum(len(paths) for paths in found.values()) >= 150


@pytest.mark.slow  # every released config at full size
@pytest.mark.parametrize('host,backbone', [
    pytest.param(host, json.loads(key), id=f'{host}:{paths[0]}')
    for (host, key), paths in sorted(_host_backbones().items())])
def test_every_host_config_builds_with_the_hosts_widths(host, backbone):
    """Every distinct backbone of the wheels' released HRNet / HRFormer
    configs (so every config), its type switched: our backbone, the
    config's widths, the host's number of outputs."""
    with DefaultScope.overwrite_default_scope(host):
        ours = _registry(host).build(_switched(backbone))
    widths = tuple(backbone['extra']['stage4']['num_channels'])
    outputs = _host_outputs(host, backbone)
    assert ours.out_channels == widths[:outputs]


@pytest.mark.slow  # every released config at full size
@pytest.mark.parametrize('host,backbone', _backbone_cases())
def test_every_host_backbone_config_gives_the_hosts_outputs(host, backbone):
    """Each distinct backbone of the wheels' configs, at 32x32."""
    ref, ours = _build_pair(host, backbone)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        _assert_same(ref(x), ours(x))
    assert ours.norm_eval == ref.norm_eval
    if host == 'mmseg':
        # mmseg resizes after its fixed-factor upsampling, so it runs at
        # sizes that are no multiple of 32; so do we, with its numbers
        x = torch.randn(1, 3, 40, 56)
        with torch.no_grad():
            _assert_same(ref(x), ours(x))


def _model_cfg(host, path):
    model = Config.fromfile(os.path.join(_configs_root(host), path)).model
    model.pop('pretrained', None)
    model['backbone'].pop('init_cfg', None)
    return model


POSE_CONFIGS = [
    'body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_hrformer-small_8xb32-210e_coco-256x192.py',
    'body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_hrformer-base_8xb32-210e_coco-384x288.py',
    'body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py',
    'face_2d_keypoint/topdown_heatmap/wflw/'
    'td-hm_hrnetv2-w18_8xb64-60e_wflw-256x256.py',
]
SEG_CONFIGS = [
    'hrnet/fcn_hr18_4xb2-40k_cityscapes-512x1024.py',
    'hrnet/fcn_hr18s_4xb4-80k_ade20k-512x512.py',
    'ocrnet/ocrnet_hr18_4xb2-40k_cityscapes-512x1024.py',
]
DET_CONFIGS = [
    'hrnet/faster-rcnn_hrnetv2p-w18-1x_coco.py',
    'hrnet/mask-rcnn_hrnetv2p-w18-1x_coco.py',
]


@pytest.mark.slow  # every released config at full size
@pytest.mark.parametrize('host,path', [('mmpose', p) for p in POSE_CONFIGS]
                         + [('mmseg', p) for p in SEG_CONFIGS])
def test_whole_pose_and_seg_models_predict_as_the_hosts(host, path):
    """Heatmaps (pose) and segmentation logits (FCN, OCR cascade)."""
    ref, ours = _build_pair(host, _model_cfg(host, path),
                            backbone_of=lambda m: m.backbone)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        _assert_same(ref(x, None, mode='tensor'),
                     ours(x, None, mode='tensor'))


@pytest.mark.slow  # every released config at full size
@pytest.mark.parametrize('path', DET_CONFIGS)
def test_detectors_extract_the_hosts_features(path):
    """Backbone + HRFPN; the RoI heads are not compared here."""
    ref, ours = _build_pair('mmdet', _model_cfg('mmdet', path),
                            backbone_of=lambda m: m.backbone)
    assert ours.backbone.norm_eval is True  # mmdet's HRNet default
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        _assert_same(ref.extract_feat(x), ours.extract_feat(x))


# --- the rules of the hosts' form -------------------------------------------

TINY = dict(channels=(4, 8, 16, 32), num_modules=(1, 1, 1), num_blocks=1,
            stage1_blocks=1, stage1_channels=8)
TINY_FORMER = dict(channels=(8, 16, 32, 64), num_heads=(1, 2, 4, 8),
                   num_modules=(1, 1, 1), num_blocks=1, stage1_blocks=1,
                   stage1_channels=8)


def _extra(multiscale=None):
    extra = hrnet_extra(TINY)
    if multiscale is None:
        del extra['stage4']['multiscale_output']
    else:
        extra['stage4']['multiscale_output'] = multiscale
    return extra


@pytest.mark.parametrize('host,mode,by_factor,outputs,norm_eval', [
    ('mmpose', 'nearest', False, 1, False),
    ('mmseg', 'bilinear', True, 4, False),
    ('mmdet', 'nearest', False, 4, True),
])
def test_host_is_the_default_scope(host, mode, by_factor, outputs,
                                   norm_eval):
    """One extra dict, three hosts: each host's defaults where it says
    nothing (mmpose: one output; mmdet: frozen BN statistics)."""
    with DefaultScope.overwrite_default_scope(host):
        m = HRNet(extra=_extra())
    fuse = m.stage4[0].fuse_layers
    assert (m.host, fuse.upsample_mode, fuse.upsample_by_factor) == (
        host, mode, by_factor)
    assert len(m.out_indices) == outputs and m.norm_eval is norm_eval


def test_without_a_host_scope_the_form_is_refused():
    with DefaultScope.overwrite_default_scope('mmengine'):
        with pytest.raises(ValueError, match="default scope, which is "
                           "'mmengine'"):
            HRNet(extra=_extra())


def test_hrformer_form_is_mmposes_whatever_the_scope():
    extra = mmpose_hrformer_extra(TINY_FORMER, drop_path_rate=0.2,
                                  multiscale_output=True)
    with DefaultScope.overwrite_default_scope('mmseg'):
        m = HRFormer(extra=extra)
    assert m.out_indices == (0, 1, 2, 3)
    assert m.stage2[0].fuse_layers.upsample_mode == 'bilinear'
    rates = [b.drop_path.drop_prob for b in m.modules()
             if hasattr(b, 'drop_path')]
    assert rates[0] == 0 and rates[-1] == pytest.approx(0.2)


def _rejected(build, error, match):
    with DefaultScope.overwrite_default_scope('mmseg'):
        with pytest.raises(error, match=match):
            build()


@pytest.mark.parametrize('build,error,match', [
    (lambda: HRNet('w18', extra=_extra()), ValueError,
     'both describe the network'),
    (lambda: HRNet(extra=_extra(), out_indices=(0, )), ValueError,
     r"\['out_indices'\] set what"),
    (lambda: HRNet(extra=_extra(), upsample_mode='bilinear'), ValueError,
     'upsample_mode'),
    (lambda: HRFormer(extra=mmpose_hrformer_extra(TINY_FORMER),
                      window_sizes=13), ValueError, 'window_sizes'),
    (lambda: HRFormer(extra=mmpose_hrformer_extra(TINY_FORMER),
                      drop_path_rate=0.1), ValueError, 'drop_path_rate'),
    (lambda: HRNet(TINY, multiscale_output=False), ValueError,
     'ours is out_indices'),
    (lambda: HRNet(extra=_extra(False)), ValueError,
     "mmseg's HRNet ignores this key"),
    (lambda: HRNet(_extra(), extra=_extra()), ValueError,
     "arch has the hosts' stage1..stage4 keys and extra is given too"),
    (lambda: HRNet(TINY, pretrained='a.pth', init_cfg=dict(type='Kaiming')),
     ValueError, 'both say how to initialise'),
], ids=['arch-and-extra', 'out_indices', 'upsample_mode', 'window_sizes',
        'drop_path_rate', 'multiscale-without-extra', 'mmseg-stage4-key',
        'extra-as-arch', 'pretrained-and-init_cfg'])
def test_contradictions_are_refused(build, error, match):
    _rejected(build, error, match)


def _edited(extra, path, value):
    extra = copy.deepcopy(extra)
    *keys, last = path
    d = extra
    for k in keys:
        d = d[k]
    d[last] = value
    return extra


@pytest.mark.parametrize('cls,extra,error,match', [
    (HRNet, _edited(_extra(), ('stage2', 'block'), 'HRFORMERBLOCK'),
     ValueError, r"extra\['stage2'\]\['block'\] = 'HRFORMERBLOCK'"),
    (HRFormer, _edited(mmpose_hrformer_extra(TINY_FORMER),
                       ('stage1', 'block'), 'BASIC'), ValueError,
     r"extra\['stage1'\]\['block'\] = 'BASIC'"),
    (HRFormer, _edited(mmpose_hrformer_extra(TINY_FORMER),
                       ('stage3', 'num_channels'), (8, 16, 24)),
     ValueError, 'keeps each stream'),
    (HRNet, _edited(_extra(), ('stage2', 'num_branch'), 2), KeyError,
     r"unknown keys \['num_branch'\]"),
    (HRNet, _edited(_extra(), ('upsample', ), dict(mode='bilinear')),
     ValueError, "mmpose's key"),
    (HRFormer, _edited(mmpose_hrformer_extra(TINY_FORMER), ('with_pad_mask',),
                       True), ValueError, 'both axes are padded'),
    (HRFormer, _edited(mmpose_hrformer_extra(TINY_FORMER),
                       ('stage3', 'block'), 'BASIC'), ValueError,
     r"\['HRFORMERBLOCK'\] blocks only"),
    (HRFormer, _edited(mmpose_hrformer_extra(TINY_FORMER),
                       ('stage4', 'num_blocks'), (1, 2, 1, 1)), ValueError,
     'fails on a branch with more'),
    (HRFormer, _edited(mmpose_hrformer_extra(TINY_FORMER),
                       ('stage4', 'window_sizes'), (7, 7, 13, 13)),
     ValueError, "window_sizes"),
], ids=['unknown-block', 'hrformer-basic-stage1', 'hrformer-width-changes',
        'typo', 'upsample-in-mmseg', 'pad-mask',
        'hrformer-block-type', 'hrformer-uneven-depth',
        'hrformer-window-changes'])
def test_what_the_form_cannot_build_is_refused(cls, extra, error, match):
    _rejected(lambda: cls(extra=extra), error, match)


def test_mmpose_bilinear_with_align_corners_is_refused():
    extra = _edited(_extra(), ('upsample', ),
                    dict(mode='bilinear', align_corners=True))
    with DefaultScope.overwrite_default_scope('mmpose'):
        with pytest.raises(ValueError, match='align_corners=False only'):
            HRNet(extra=extra)


def _zero_norms(model):
    return sorted(n for n, p in model.named_parameters()
                  if 'bn' in n and n.endswith('weight') and not p.any())


@pytest.mark.parametrize('cls,extra', [
    (HRNet, _extra(True)),
    (HRFormer, mmpose_hrformer_extra(TINY_FORMER, multiscale_output=True)),
], ids=['HRNet', 'HRFormer'])
def test_zero_init_residual_zeroes_what_mmpose_zeroes(cls, extra):
    host_cls = getattr(importlib.import_module('mmpose.models.backbones'),
                       cls.__name__)
    ref = host_cls(copy.deepcopy(extra), zero_init_residual=True)
    ref.init_weights()
    with DefaultScope.overwrite_default_scope('mmpose'):
        ours = cls(extra=copy.deepcopy(extra), zero_init_residual=True)
    ours.init_weights()
    expected = _zero_norms(ref)
    assert expected  # the last BN of every residual block
    assert _zero_norms(ours) == expected


def test_deprecated_pretrained_becomes_the_hosts_init_cfg():
    """mmseg's segmentors hand their ``pretrained`` to the backbone."""
    path = 'hrnet/fcn_hr18_4xb2-40k_cityscapes-512x1024.py'
    model = Config.fromfile(os.path.join(_configs_root('mmseg'),
                                         path)).model
    assert model['pretrained'] == 'open-mmlab://msra/hrnetv2_w18'
    registry = _registry('mmseg')
    with DefaultScope.overwrite_default_scope('mmseg'):
        ref = registry.build(copy.deepcopy(model))
        model['backbone'] = _switched(model['backbone'])
        ours = registry.build(model)
    assert ours.backbone.init_cfg == ref.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w18')


def test_our_own_form_is_unchanged_by_the_hosts_arguments():
    m = HRNet()
    assert m.host is None and m.norm_eval is False
    assert m.out_channels == (32, 64, 128, 256)  # 'w32'
    assert HRFormer(TINY_FORMER).out_channels == (8, 16, 32, 64)
    assert HRFormer().arch['channels'] == (32, 64, 128, 256)  # 'small'


# --- our configs follow the hosts' recipes ----------------------------------

CLAIM = re.compile(r'^# Host recipe \(.*\n(?:# .*\n)*?# (\w+)::(\S+\.py)$',
                   re.M)
# what "the recipe outside the model" is: optimizer, schedule, loops, batch
# sizes, datasets and pipelines, metrics
RECIPE_KEYS = ('optim_wrapper', 'param_scheduler', 'train_cfg', 'val_cfg',
               'test_cfg', 'auto_scale_lr', 'train_dataloader',
               'val_dataloader', 'test_dataloader', 'val_evaluator',
               'test_evaluator')
# what may differ inside a dataloader: how many worker processes load it
LOADER_FREE = ('num_workers', )


def _claims():
    """``(config, host, host path)`` for every zoo config that names the
    host config whose recipe it follows (a ``# Host recipe (...):`` comment
    whose last line is ``# <host>::<path>``)."""
    root = os.path.join(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))), 'configs')
    found = []
    for path in sorted(glob.glob(os.path.join(root, '*', '*.py'))):
        match = CLAIM.search(open(path).read())
        if match:
            found.append((path, *match.groups()))
    return found


def _recipe(cfg):
    """The recipe keys of a config as plain data, without mmengine's
    ``_scope_`` markers (they name the file a dict came from) and the
    dataloaders' worker counts."""
    def plain(x):
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items() if k != '_scope_'}
        if isinstance(x, (list, tuple)):
            return [plain(v) for v in x]
        return x
    recipe = {k: plain(cfg.get(k)) for k in RECIPE_KEYS}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for free in LOADER_FREE:
            recipe[key].pop(free, None)
    return json.loads(json.dumps(recipe, default=str))


def test_the_hrnet_zoo_configs_name_their_host_recipe():
    """Every seg / det / cls HRNet config (the hosts' own recipes on our
    backbone) says so, unless it states that no host ships its row
    (``# No host recipe: ...``: LIP, Cityscapes W40, on the HRNet
    releases' recipes).  The pose configs inherit mmpose's recipes
    themselves (``_base_ = 'mmpose::...'``, test_configs.py)."""
    claimed = {os.path.basename(c) for c, _, _ in _claims()}
    root = os.path.join(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))), 'configs')
    paths = [p for d in ('seg', 'det', 'cls')
             for p in glob.glob(os.path.join(root, d, 'hrnet*.py'))
             if 'demo' not in p]
    exempt = {os.path.basename(p) for p in paths
              if re.search(r'^# No host recipe: \S', open(p).read(), re.M)}
    assert len(exempt) == 2 and not exempt & claimed, exempt
    assert {os.path.basename(p) for p in paths} - exempt <= claimed


@pytest.mark.parametrize('path,host,host_path', _claims(),
                         ids=[os.path.relpath(c[0]) for c in _claims()])
@pytest.mark.slow
def test_zoo_config_recipe_is_its_hosts(path, host, host_path):
    """Outside the model (and the runtime: hooks, logging, workers), a
    config that names a host recipe trains, validates and tests as it."""
    host_file = os.path.join(_configs_root(host), host_path)
    assert os.path.isfile(host_file), host_file
    ours, theirs = _recipe(Config.fromfile(path)), \
        _recipe(Config.fromfile(host_file))
    for key in RECIPE_KEYS:
        assert ours[key] == theirs[key], key
