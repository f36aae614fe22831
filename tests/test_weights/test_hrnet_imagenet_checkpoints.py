"""Every published ImageNet HRNet checkpoint loads directly, whatever its key
scheme: mmpretrain's ``ImageClassifier``, the HRNet ImageNet release's
(HRNet-Image-Classification, ``lib/models/cls_hrnet.py``) and timm's
(``hrnet_w*``; the ``*_ssld`` models, built with ``head_conv_bias=False``;
``features_only`` models), into this package's classifier configs and as a
backbone's initialisation, for W18 and W40.

The checkpoints are random weights written in each scheme.  mmpretrain's is
the state dict of mmpretrain's own classifier (its config, its HRNet); the
release's and timm's (timm's ``hrnet.py`` is the release's code) are spelt
out below from the release's ``_make_head``.  Their backbone keys are
mmpose's, which are ours (tests/test_models/test_hrnet.py).
"""
import functools

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from hrformer_mm.engine.checks import check_checkpoint_matches
from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.models.backbones import HRNet
from hrformer_mm.testing import seeded_state, state_spec

from e2e_utils import ROOT

WIDTHS = ('w18', 'w40')
# the release's head: bottleneck widths of the increment modules (x4 out),
# then the 2048-wide final 1x1 and the 1000-way linear classifier
HEAD_PLANES = (32, 64, 128, 256)
BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def _bn(prefix, c):
    return [(f'{prefix}.{n}', () if n == 'num_batches_tracked' else (c, ))
            for n in BN]


def release_head_spec(arch, conv_bias=True, incre_only=False):
    """``(key, shape)`` of the release's classification head beside the
    backbone: ``incre_modules.i`` one Bottleneck (with a 1x1 conv + BN
    projection) per stream, ``downsamp_modules.i`` a biased 3x3 stride-2
    conv + BN + ReLU, ``final_layer`` a biased 1x1 conv + BN + ReLU,
    ``classifier`` the linear layer.  ``conv_bias=False``: timm's
    ``head_conv_bias=False``; ``incre_only``: timm's ``features_only``
    (``feature_location='incre'``)."""
    channels = HRNet._resolve_arch(arch)['channels']
    spec = []
    for i, (c, p) in enumerate(zip(channels, HEAD_PLANES)):
        m = f'incre_modules.{i}.0'
        spec += [(f'{m}.conv1.weight', (p, c, 1, 1))] + _bn(f'{m}.bn1', p)
        spec += [(f'{m}.conv2.weight', (p, p, 3, 3))] + _bn(f'{m}.bn2', p)
        spec += [(f'{m}.conv3.weight', (4 * p, p, 1, 1))] + \
            _bn(f'{m}.bn3', 4 * p)
        spec += [(f'{m}.downsample.0.weight', (4 * p, c, 1, 1))] + \
            _bn(f'{m}.downsample.1', 4 * p)
    if incre_only:
        return spec
    for i in range(3):
        c_in, c_out = 4 * HEAD_PLANES[i], 4 * HEAD_PLANES[i + 1]
        spec.append((f'downsamp_modules.{i}.0.weight', (c_out, c_in, 3, 3)))
        if conv_bias:
            spec.append((f'downsamp_modules.{i}.0.bias', (c_out, )))
        spec += _bn(f'downsamp_modules.{i}.1', c_out)
    spec.append(('final_layer.0.weight', (2048, 1024, 1, 1)))
    if conv_bias:
        spec.append(('final_layer.0.bias', (2048, )))
    spec += _bn('final_layer.1', 2048)
    return spec + [('classifier.weight', (1000, 2048)),
                   ('classifier.bias', (1000, ))]


@functools.lru_cache(maxsize=None)
def release_state(arch, seed=0, conv_bias=True, incre_only=False,
                  head=True, batches_tracked=True):
    """A bare HRNet's keys plus the release's head (see
    :func:`release_head_spec`), random values (the same dict for the same
    arguments: do not modify it)."""
    with torch.device('meta'):  # the names and shapes only
        spec = state_spec(HRNet(arch).state_dict())
    if head:
        spec += release_head_spec(arch, conv_bias, incre_only)
    state = seeded_state(spec, seed)
    if not batches_tracked:  # PyTorch 0.4.0's BatchNorm kept no counter
        state = {k: v for k, v in state.items()
                 if not k.endswith('num_batches_tracked')}
    return state


#: scheme -> state dict writer.  timm's ``hrnet_w*`` checkpoints are in
#: the release's scheme (timm's ``hrnet.py`` is the release's code).
SCHEMES = {
    'release': release_state,
    'release-pytorch0.4.0': lambda a: release_state(a, batches_tracked=False),
    'timm-ssld': lambda a: release_state(a, conv_bias=False),
    'timm-features-incre': lambda a: release_state(a, incre_only=True),
    'timm-features': lambda a: release_state(a, head=False),
}


def config(width):
    return f'{ROOT}/configs/cls/hrnet_{width}_imagenet.py'


def reference_classifier(width):
    """The release's classifier computation: our HRNet, our
    HRClassificationNeck in its plain (HRViT / HRNet) form, which has the
    release's head modules and biases, and a linear head."""
    cfg = Config.fromfile(config(width))
    channels = HRNet._resolve_arch(width)['channels']
    cfg.model.neck = dict(type='hrformer_mm.HRClassificationNeck',
                          in_channels=channels, depthwise=False)
    _, model = build_model_from_config(cfg)
    return model.eval()


def logits(model, seed=1):
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(
        seed))
    with torch.no_grad():
        return model.eval()(x, mode='tensor')


def assert_same_logits(a, b):
    """Equal to float32 rounding (random weights give logits of order
    1e3, and a bias folded into a running mean rounds differently)."""
    torch.testing.assert_close(a, b, rtol=0,
                               atol=1e-6 * b.abs().max().item())


@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.parametrize('scheme', ['release', 'timm-ssld'])
@pytest.mark.slow
def test_release_and_timm_classifiers_load_into_the_classifier_config(
        width, scheme, tmp_path):
    """Into mmpretrain's layout (HRFuseScales neck, LinearClsHead): every
    tensor read, nothing missing, the release's classifier's logits."""
    state = SCHEMES[scheme](width)
    path = tmp_path / 'ckpt.pth'
    torch.save(state, path)
    _, model = build_model_from_config(config(width))
    check_checkpoint_matches(model, str(path))  # what tools/test.py checks
    # strict: a key unread or unfilled raises
    load_checkpoint(model, str(path), strict=True)
    reference = reference_classifier(width)
    if scheme == 'timm-ssld':  # the plain neck always has the biases
        state = {**state, **{k: torch.zeros(s) for k, s in
                             release_head_spec(width)
                             if k.endswith('.0.bias')}}
    load_checkpoint(reference, _saved(tmp_path, state), strict=True)
    assert_same_logits(logits(model), logits(reference))
    got = model.state_dict()
    assert torch.equal(got['head.fc.weight'], state['classifier.weight'])
    assert torch.equal(got['backbone.stage4.0.fuse_layers.0.3.0.weight'],
                       state['stage4.0.fuse_layers.0.3.0.weight'])
    # HRFuseScales has no conv bias in front of its BatchNorms: the
    # release's are subtracted from the running means
    for ours, theirs in (('neck.0.downsample_layers.1', 'downsamp_modules.1'),
                         ('neck.0.final_layer', 'final_layer')):
        assert torch.equal(got[f'{ours}.conv.weight'],
                           state[f'{theirs}.0.weight'])
        assert torch.equal(got[f'{ours}.bn.running_mean'],
                           state[f'{theirs}.1.running_mean']
                           - state[f'{theirs}.0.bias'])
        assert torch.equal(got[f'{ours}.bn.running_var'],
                           state[f'{theirs}.1.running_var'])


def _saved(tmp_path, state):
    path = tmp_path / 'reference.pth'
    torch.save(state, path)
    return str(path)


@pytest.fixture(scope='module')
def mmpretrain_classifiers():
    """mmpretrain's own classifiers (its configs, its HRNet), random."""
    pytest.importorskip('mmpretrain')
    out = {}
    for width in WIDTHS:
        cfg = Config.fromfile(
            f'{ROOT}/configs/cls/hrnet_{width}_imagenet.py')
        cfg.model.backbone = dict(type='HRNet', arch=width)
        _, model = build_model_from_config(cfg)
        assert type(model.backbone).__module__.startswith('mmpretrain')
        model.load_state_dict(seeded_state(state_spec(model.state_dict()),
                                           seed=2))
        out[width] = model.eval()
    return out


@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.slow
def test_mmpretrain_classifier_loads_unchanged(width, tmp_path,
                                               mmpretrain_classifiers):
    theirs = mmpretrain_classifiers[width]
    path = tmp_path / 'mmpretrain.pth'
    torch.save(dict(meta=dict(), state_dict=theirs.state_dict()), path)
    _, model = build_model_from_config(config(width))
    load_checkpoint(model, str(path), strict=True)
    assert model.state_dict().keys() == theirs.state_dict().keys()
    assert_same_logits(logits(model), logits(theirs))


def _load_log(monkeypatch):
    import mmengine.runner.checkpoint
    logged = []
    monkeypatch.setattr(mmengine.runner.checkpoint, 'print_log',
                        lambda msg, *a, **k: logged.append(msg))
    return logged


def _pretrained_backbone(width, path, **init):
    backbone = HRNet(width, init_cfg=dict(type='Pretrained',
                                          checkpoint=str(path), **init))
    backbone.init_weights()
    return backbone


@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.parametrize('scheme', sorted(SCHEMES))
@pytest.mark.slow
def test_every_scheme_initialises_a_backbone(width, scheme, tmp_path,
                                             monkeypatch):
    """``init_cfg=dict(type='Pretrained', checkpoint=...)`` (a pose,
    segmentation or detection config's backbone): the backbone's tensors,
    the classifier dropped with its reason, nothing reported missing or
    unexpected."""
    state = SCHEMES[scheme](width)
    path = tmp_path / 'ckpt.pth'
    torch.save(state, path)
    logged = _load_log(monkeypatch)
    backbone = _pretrained_backbone(width, path)
    assert not [m for m in logged if 'missing keys' in m
                or 'unexpected key' in m], logged
    got = backbone.state_dict()
    for key, value in got.items():
        if key in state:
            assert torch.equal(value, state[key]), key
        else:  # no counter in the checkpoint: BatchNorm starts it at 0
            assert key.endswith('num_batches_tracked'), key


@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.parametrize('prefix', [None, 'backbone.'])
@pytest.mark.slow
def test_mmpretrain_classifier_initialises_a_backbone(
        width, prefix, tmp_path, monkeypatch, mmpretrain_classifiers):
    """mmpretrain's checkpoint, as its downstream configs take it
    (``prefix='backbone.'``) or whole."""
    theirs = mmpretrain_classifiers[width].state_dict()
    path = tmp_path / 'mmpretrain.pth'
    torch.save(dict(meta=dict(), state_dict=theirs), path)
    logged = _load_log(monkeypatch)
    init = {} if prefix is None else dict(prefix=prefix)
    backbone = _pretrained_backbone(width, path, **init)
    assert not [m for m in logged if 'missing keys' in m
                or 'unexpected key' in m], logged
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, theirs['backbone.' + key]), key
