"""ImageNet classifiers (configs/cls/): sizes against the papers and
mmpretrain, logits against the reference classification code, and the
chain a user walks: classification checkpoint -> every dense config of the
same backbone.

``tests/data/cls_golden.pt`` was recorded from the reference code itself by
``tools/analysis/parity_reference_cls.py --write-golden``: for each of
HRT-T / S / B (github.com/HRNet/HRFormer ``cls/``) and HRViT-b1 / b2 / b3
(github.com/facebookresearch/HRViT) the key names and shapes of the
reference classifier, the seed of its weights and its logits on two images
(224x224 and 160x192).  The weights are regenerated here, saved as the
reference training code saves them and loaded into our config's model.
"""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from hrformer_mm.analysis.parity import cls as parity
from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.models.necks import HRClassificationNeck
from hrformer_mm.testing import seeded_state

from e2e_utils import ROOT

GOLDEN = osp.join(ROOT, 'tests', 'data', 'cls_golden.pt')


def cls_config(name: str) -> str:
    return osp.join(ROOT, 'configs', 'cls', name)


# ------------------------------------------------------------------ sizes

@pytest.mark.parametrize('config,paper_params', [
    ('hrformer_t_imagenet.py', 8.0),
    ('hrformer_s_imagenet.py', 13.5),
    ('hrformer_b_imagenet.py', 50.3),
    ('hrvit_b1_imagenet.py', 19.7),
    ('hrvit_b2_imagenet.py', 32.5),
    ('hrvit_b3_imagenet.py', 37.9),
])
@pytest.mark.slow
def test_classifier_parameters_match_the_papers(config, paper_params):
    _, model = build_model_from_config(cls_config(config))
    params = sum(p.numel() for p in model.parameters()) / 1e6
    assert params == pytest.approx(paper_params, rel=0.01)


@pytest.mark.parametrize('arch,mmpretrain_params', [
    # mmpretrain 1.2 configs/hrnet/metafile.yml, hrnet-w*_3rdparty_8xb32_in1k
    ('w18', 21295164), ('w32', 41228840), ('w48', 77466024)])
def test_hrnet_classifiers_have_mmpretrain_sizes(arch, mmpretrain_params):
    _, model = build_model_from_config(cls_config(f'hrnet_{arch}_imagenet.py'))
    assert sum(p.numel() for p in model.parameters()) == mmpretrain_params


def test_hrnet_classifier_computes_what_mmpretrain_computes():
    """mmpretrain's own HRNet-W18 classifier and ours, same weights: its
    state dict loads strictly and the logits agree."""
    from mmpretrain.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    import mmpretrain
    cfg = Config.fromfile(osp.join(osp.dirname(mmpretrain.__file__), '.mim',
                                   'configs', 'hrnet',
                                   'hrnet-w18_4xb32_in1k.py'))
    theirs = MODELS.build(cfg.model).eval()
    _, ours = build_model_from_config(cls_config('hrnet_w18_imagenet.py'))
    state = seeded_state([(k, tuple(v.shape), str(v.dtype))
                          for k, v in theirs.state_dict().items()], 0)
    theirs.load_state_dict(state, strict=True)
    ours.load_state_dict(state, strict=True)
    x = torch.randn(2, 3, 96, 128, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = theirs(x, mode='tensor')
        got = ours.eval()(x, mode='tensor')
    assert parity.relative_diff(expected, got) < 1e-6


# ----------------------------------------------- parity with the references

@pytest.fixture(scope='module')
def golden():
    return torch.load(GOLDEN, weights_only=True)


def test_golden_file_covers_every_transformer_classifier(golden):
    assert sorted(golden['variants']) == sorted(parity.VARIANTS)
    assert [tuple(s) for s in golden['sizes']] == [(224, 224), (160, 192)]


@pytest.mark.parametrize('config', sorted(parity.VARIANTS))
@pytest.mark.slow
def test_reference_classifier_loads_and_gives_its_logits(golden, config):
    record = golden['variants'][config]
    state = seeded_state(record['spec'], golden['seed'])
    checkpoint = parity.saved_as_reference(record['family'], state)
    model = parity.build_ours(osp.join(ROOT, config), checkpoint)  # strict
    for x, expected in zip(parity.images(golden['seed']), record['logits']):
        got = parity.logits(model, x, ours=True)
        assert got.shape == expected.shape == (1, 1000)
        assert parity.relative_diff(expected, got) < 1e-5


def test_reference_head_lands_in_the_neck_and_the_linear_head(golden):
    """The relocation, key by key, for both layouts (HRFormer's head at the
    root, HRViT's under ``head.``)."""
    for config in ('configs/cls/hrformer_t_imagenet.py',
                   'configs/cls/hrvit_b1_imagenet.py'):
        record = golden['variants'][config]
        state = seeded_state(record['spec'], golden['seed'])
        model = parity.build_ours(osp.join(ROOT, config), dict(
            parity.saved_as_reference(record['family'], state)))
        ref_head = 'head.' if record['family'] == 'hrvit' else ''
        torch.testing.assert_close(model.head.fc.weight,
                                   state[ref_head + 'classifier.weight'],
                                   rtol=0, atol=0)
        torch.testing.assert_close(
            model.neck.final_layer[0].weight,
            state[ref_head + 'final_layer.0.weight'], rtol=0, atol=0)


# ------------------------------------------ classification -> dense configs

def _backbone_key(cfg: Config):
    b = cfg.model.backbone
    return b.type.split('.')[-1], b.get('arch')


def _dense_configs():
    return [p for task in ('pose', 'seg', 'det') for p in sorted(
        glob.glob(osp.join(ROOT, 'configs', task, '*.py')))
        if 'demo' not in osp.basename(p)]


@pytest.fixture(scope='module')
def classifier_checkpoints(tmp_path_factory):
    """One checkpoint per classifier config, as this project's training
    writes it (mmengine's CheckpointHook: ``state_dict`` of the whole
    ImageClassifier), keyed by (backbone type, arch)."""
    out = {}
    root = tmp_path_factory.mktemp('cls_ckpts')
    for path in sorted(glob.glob(cls_config('*_imagenet.py'))):
        cfg, model = build_model_from_config(path)
        state = model.state_dict()
        file = root / (osp.basename(path) + '.pth')
        torch.save(dict(meta=dict(cfg=cfg.pretty_text), state_dict=state),
                   file)
        out[_backbone_key(cfg)] = (file, state)
    return out


@pytest.mark.slow
def test_every_dense_config_with_an_imagenet_classifier_is_covered(
        classifier_checkpoints):
    """Every HRFormer, HRViT and HRNet arch of the dense zoo has a
    classifier config to pretrain it (HRPVT starts from PVT v2's release)."""
    keys = {_backbone_key(Config.fromfile(p)) for p in _dense_configs()}
    families = {'HRFormer', 'HRViT', 'HRNet'}
    assert {k for k in keys if k[0] in families} <= set(
        classifier_checkpoints)


def _one_config_per_backbone():
    """The first dense config of each (backbone, arch, window size): the
    others build the same parameters (drop path, norms and upsampling
    differ, not the tensors)."""
    seen = {}
    for path in _dense_configs():
        b = Config.fromfile(path).model.backbone
        seen.setdefault((b.type, b.get('arch'), b.get('window_sizes')), path)
    return list(seen.values())


@pytest.mark.parametrize('config', _one_config_per_backbone(),
                         ids=lambda p: osp.relpath(p, ROOT))
@pytest.mark.slow
def test_classification_checkpoint_initialises_dense_backbone(
        config, classifier_checkpoints):
    cfg = Config.fromfile(config)
    key = _backbone_key(cfg)
    if key not in classifier_checkpoints:
        pytest.skip(f'{key}: no ImageNet classifier config (PVT v2 weights)')
    file, cls_state = classifier_checkpoints[key]
    cfg.model.backbone.init_cfg = dict(type='Pretrained',
                                       checkpoint=str(file))
    _, model = build_model_from_config(cfg, pretrained=True)
    model.backbone.init_weights()  # what the runner does with init_cfg
    tables = 0
    for name, value in model.backbone.state_dict().items():
        if name.endswith('relative_position_index'):
            continue
        source = cls_state['backbone.' + name]
        if name.endswith('relative_position_bias_table') and \
                source.shape != value.shape:
            tables += 1  # a larger window: resized from the 7x7 table
            continue
        torch.testing.assert_close(value, source, rtol=0, atol=0,
                                   msg=f'{name} not from the checkpoint')
    assert (tables > 0) == ((cfg.model.backbone.get('window_sizes') or 7)
                            > 7)
    # nothing missing; left out: the neck, the linear head and, where the
    # dense model keeps the highest resolution only (pose), what the last
    # module computes for the lower-resolution outputs only (HRFormer's
    # and HRNet's fusions into them, HRViT's pruned branches)
    checkpoint = torch.load(file, weights_only=True)
    result = model.backbone.load_state_dict(checkpoint['state_dict'],
                                            strict=False)
    assert result.missing_keys == []
    last_fusions = re.compile(r'^(stage4\.\d+\.fuse_layers|stages\.\d+\.'
                              r'(fusion|branches))\.[1-3]\.')
    assert [k for k in result.unexpected_keys
            if not last_fusions.match(k)] == []


def test_neck_refuses_the_wrong_number_of_streams():
    neck = HRClassificationNeck(in_channels=(8, 16, 32, 64),
                                head_channels=(4, 8, 16, 32), out_channels=64)
    with pytest.raises(ValueError, match='built for 4 streams, got 3'):
        neck([torch.zeros(1, 8, 8, 8), torch.zeros(1, 16, 4, 4),
              torch.zeros(1, 32, 2, 2)])
    with pytest.raises(ValueError, match='one entry per stream'):
        HRClassificationNeck(in_channels=(8, 16), head_channels=(4, 8, 16))
