"""Every published checkpoint format loads directly, as its offline-converted
copy does: the same tensors in the model, the same outputs, nothing left
over or missing (mmengine's ``load_checkpoint``, ``load_from``,
``init_cfg=dict(type='Pretrained')``).

The foreign checkpoints are written here from a model of our own with
seeded weights, rewritten into each release's key scheme by the rules of
that release (the golden-output tests check those rules against the
releases' own code).
"""
import re
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from hrformer_mm.engine.checks import check_checkpoint_matches
from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.testing import seeded_state, state_spec

from e2e_utils import ROOT, load_tool
from weights_utils import (HRFORMER_ARCH, hrformer_mmpose,
                           hrformer_reference_backbone,
                           hrformer_reference_imagenet,
                           hrformer_reference_pose)

convert_tool = load_tool('convert_checkpoint.py')

POSE = f'{ROOT}/configs/pose/hrformer_demo_coco.py'
SEG = f'{ROOT}/configs/seg/hrformer_demo_ade20k.py'
HRVIT = f'{ROOT}/configs/seg/hrvit_demo_ade20k.py'
WFLW = f'{ROOT}/configs/pose/hrnetv2_demo_wflw.py'
# small enough that every case builds in a fraction of a second
HRVIT_ARCH = dict(channels=(16, 32, 32, 32), head_dim=8,
                  mlp_ratios=(2, 2, 2, 2), stripe_widths=(1, 2, 3, 3),
                  blocks=((1, ), (1, 1), (1, 1, 1), (1, 1, 1, 1)))


def build(config, with_rpe=True, init_cfg=None):
    cfg = Config.fromfile(config)
    b = cfg.model.backbone
    if b.type.endswith('HRFormer'):
        b.arch, b.with_rpe = HRFORMER_ARCH, with_rpe
        channels = list(HRFORMER_ARCH['channels'])
    elif b.type.endswith('HRViT'):
        b.arch = HRVIT_ARCH
        channels = list(HRVIT_ARCH['channels'])
    if config == POSE:
        cfg.model.head.in_channels = channels[0]
    elif config in (SEG, HRVIT):
        heads = cfg.model.decode_head
        for head in heads if isinstance(heads, list) else [heads]:
            head.in_channels = channels
            if head.type == 'FCNHead':
                head.channels = sum(channels)
    _, model = build_model_from_config(cfg)
    if init_cfg is not None:
        model.backbone.init_cfg = init_cfg
        model.backbone.init_weights()
    return model.eval()


def our_state(model, seed=0):
    """Seeded values for every tensor the model saves."""
    return seeded_state(state_spec(model.state_dict()), seed)


# ------------------------------------------------- foreign key schemes

# mmseg FCNHead / OCRHead -> the reference's seg/lib/models/nets/hrt.py
_REFERENCE_SEG_HEADS = [
    ('decode_head.0.convs.0.conv.', 'aux_head.0.', True),
    ('decode_head.0.convs.0.bn.', 'aux_head.1.0.', False),
    ('decode_head.0.conv_seg.', 'aux_head.2.', False),
    ('decode_head.1.bottleneck.conv.', 'conv3x3.0.', True),
    ('decode_head.1.bottleneck.bn.', 'conv3x3.1.0.', False),
    ('decode_head.1.conv_seg.', 'cls_head.', False),
]
_OCB = 'decode_head.1.object_context_block.'
_REF_OCB = 'ocr_distri_head.object_context_block.'
for _ours, _ref in (('query_project', 'f_pixel'), ('key_project', 'f_object')):
    _REFERENCE_SEG_HEADS += [
        (f'{_OCB}{_ours}.0.conv.', f'{_REF_OCB}{_ref}.0.', True),
        (f'{_OCB}{_ours}.0.bn.', f'{_REF_OCB}{_ref}.1.0.', False),
        (f'{_OCB}{_ours}.1.conv.', f'{_REF_OCB}{_ref}.2.', True),
        (f'{_OCB}{_ours}.1.bn.', f'{_REF_OCB}{_ref}.3.0.', False)]
for _ours, _ref in (('value_project', 'f_down'), ('out_project', 'f_up')):
    _REFERENCE_SEG_HEADS += [
        (f'{_OCB}{_ours}.conv.', f'{_REF_OCB}{_ref}.0.', True),
        (f'{_OCB}{_ours}.bn.', f'{_REF_OCB}{_ref}.1.0.', False)]
_REFERENCE_SEG_HEADS += [
    (f'{_OCB}bottleneck.conv.', 'ocr_distri_head.conv_bn_dropout.0.', True),
    (f'{_OCB}bottleneck.bn.', 'ocr_distri_head.conv_bn_dropout.1.0.', False)]


def hrformer_reference_seg(state, seed=1):
    """The reference segmentation model's keys; its convs in front of a
    BatchNorm have a bias (random here), which loading must fold."""
    g = torch.Generator().manual_seed(seed)
    out = hrformer_reference_backbone(state, 'backbone.')
    ref = {}
    for k, v in out.items():
        for ours, theirs, biased in _REFERENCE_SEG_HEADS:
            if k.startswith(ours):
                new = theirs + k[len(ours):]
                ref[new] = v
                if biased and k.endswith('weight'):
                    ref[theirs + 'bias'] = 0.1 * torch.randn(v.shape[0],
                                                             generator=g)
                break
        else:
            assert not k.startswith('decode_head.'), k
            ref[k] = v
    return ref


def hrformer_reference_imagenet_model(state):
    """The reference ``cls/`` release: a bare backbone with its classifier,
    under ``model`` as its training code saves it."""
    bare = {k[9:]: v for k, v in state.items() if k.startswith('backbone.')}
    return {'model': hrformer_reference_imagenet(bare)}


def hrnet_mmpose_0x(state):
    return {('keypoint_head.' + k[5:] if k.startswith('head.') else k): v
            for k, v in state.items()}


def hrnet_imagenet(state):
    """The reference / mmcv ImageNet HRNet: a bare backbone with
    ``incre_modules``, ``downsamp_modules``, ``final_layer``,
    ``classifier``."""
    bare = {k[9:]: v for k, v in state.items() if k.startswith('backbone.')}
    bare['incre_modules.0.0.conv1.weight'] = torch.randn(32, 16, 1, 1)
    bare['downsamp_modules.0.0.weight'] = torch.randn(256, 128, 3, 3)
    bare['final_layer.0.weight'] = torch.randn(2048, 1024, 1, 1)
    bare['classifier.weight'] = torch.randn(1000, 2048)
    return bare


_HRVIT_BLOCK = [('.norm1.', '.attn_norm.'), ('.norm2.', '.ffn_norm.'),
                ('.attn.qv.', '.attn.to_qkv.'),
                ('.attn.proj.', '.attn.to_out.0.'),
                ('.attn.norm.', '.attn.attn_bn.'),
                ('.attn.value_conv.', '.attn.parallel_conv.1.'),
                ('.ffn.dwconv3.', '.ffn.conv.conv_3.'),
                ('.ffn.dwconv5.', '.ffn.conv.conv_5.')]


def _public_hrvit_key(key):
    """Our HRViT key -> facebookresearch/HRViT's (fusions and stages
    alternate in one ``features`` Sequential)."""
    m = re.match(r'^(.*?)stages\.(\d+)\.(fusion|branches)\.(.*)$', key)
    if not m:
        return key
    pre, stage, part, rest = m.group(1), int(m.group(2)), m.group(3), \
        m.group(4)
    if part == 'fusion':
        return f'{pre}features.{2 * stage}.blocks.{rest}'
    feat = f'{pre}features.{2 * stage + 1}.'
    branch, rest = rest.split('.', 1)
    if rest.startswith('patch_embed.'):
        sub, tail = rest[len('patch_embed.'):].split('.', 1)
        name = {'pwconv': 'proj.0', 'dwconv': 'proj.1', 'norm': 'norm'}[sub]
        return f'{feat}patch_embed.{branch}.{name}.{tail}'
    if rest.startswith('norm.'):
        return f'{feat}norm.{branch}.{rest[len("norm."):]}'
    assert rest.startswith('blocks.'), key
    block, tail = rest[len('blocks.'):].split('.', 1)
    tail = '.' + tail
    for ours, theirs in _HRVIT_BLOCK:
        tail = tail.replace(ours, theirs)
    return f'{feat}branches.{branch}.{block}{tail}'


def hrvit_public_seg(state):
    """The public code's mmseg 0.x segmentation model (SegFormer head keys
    are ours)."""
    return {_public_hrvit_key(k): v for k, v in state.items()}


def hrvit_public_imagenet(state):
    bare = {_public_hrvit_key(k[9:]): v for k, v in state.items()
            if k.startswith('backbone.')}
    bare['head.weight'] = torch.randn(1000, 32)
    bare['head.bias'] = torch.randn(1000)
    return bare


# name -> (config, with_rpe, key scheme)
WHOLE_MODEL_FORMATS = {
    'hrformer-reference-pose': (POSE, False, hrformer_reference_pose),
    'hrformer-reference-seg': (SEG, True, hrformer_reference_seg),
    'hrformer-mmpose': (POSE, True, hrformer_mmpose),
    'hrnet-mmpose-0.x': (WFLW, True, hrnet_mmpose_0x),
    'hrvit-public-seg': (HRVIT, True, hrvit_public_seg),
}
BACKBONE_FORMATS = {
    'hrformer-reference-imagenet': (SEG,
                                    hrformer_reference_imagenet_model),
    'hrnet-imagenet': (WFLW, hrnet_imagenet),
    'hrvit-public-imagenet': (HRVIT, hrvit_public_imagenet),
}


def _offline(tmp_path, foreign):
    src, dst = tmp_path / 'foreign.pth', tmp_path / 'converted.pth'
    torch.save(foreign, src)
    convert_tool.main([str(src), str(dst)])
    return src, dst


def _same_model(a, b, x):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    different = [k for k in sa if not torch.equal(sa[k], sb[k])]
    assert not different, different[:5]
    with torch.no_grad():
        fa, fb = a.extract_feat(x), b.extract_feat(x)
    for u, v in zip(fa, fb):
        assert torch.equal(u, v)


@pytest.mark.parametrize('name', sorted(WHOLE_MODEL_FORMATS))
@pytest.mark.slow
def test_whole_model_checkpoint_loads_directly_as_converted(name, tmp_path):
    config, with_rpe, to_format = WHOLE_MODEL_FORMATS[name]
    reference = build(config, with_rpe)
    ours = our_state(reference)
    src, dst = _offline(tmp_path, dict(state_dict=to_format(ours)))
    direct, converted = build(config, with_rpe), build(config, with_rpe)
    # strict: a key left unread or unfilled by the adaptation fails here
    load_checkpoint(direct, str(src), strict=True)
    load_checkpoint(converted, str(dst), strict=True)
    check_checkpoint_matches(direct, str(src))  # what tools/test.py checks
    _same_model(direct, converted, torch.randn(1, 3, 64, 64))
    if name != 'hrformer-reference-seg':  # there, biases are folded
        expected = {k: v for k, v in ours.items()}
        got = direct.state_dict()
        assert all(torch.equal(got[k], v) for k, v in expected.items())


@pytest.mark.parametrize('name', sorted(BACKBONE_FORMATS))
@pytest.mark.slow
def test_imagenet_checkpoint_initialises_the_backbone_as_converted(
        name, tmp_path, monkeypatch):
    import mmengine.runner.checkpoint
    reported = []
    monkeypatch.setattr(mmengine.runner.checkpoint, 'print_log',
                        lambda msg, *a, **k: reported.append(msg))
    config, to_format = BACKBONE_FORMATS[name]
    ours = our_state(build(config))
    src, dst = _offline(tmp_path, to_format(ours))
    direct = build(config, init_cfg=dict(type='Pretrained',
                                         checkpoint=str(src)))
    # the classifier is dropped with a reason, not left "unexpected" (in
    # the log that does see the load)
    assert any(f'from path: {src}' in m for m in reported), reported
    assert not [m for m in reported if 'unexpected key' in m]
    converted = build(config, init_cfg=dict(type='Pretrained',
                                            checkpoint=str(dst)))
    got = direct.backbone.state_dict()
    assert got.keys() == converted.backbone.state_dict().keys()
    for k, v in got.items():
        assert torch.equal(v, converted.backbone.state_dict()[k]), k
        assert torch.equal(v, ours['backbone.' + k]), k


def test_whole_model_checkpoint_as_backbone_init_cfg_takes_its_backbone(
        tmp_path):
    """``init_cfg=dict(type='Pretrained', checkpoint=...)`` without
    ``prefix`` on a whole pose model's checkpoint."""
    ours = our_state(build(POSE, False))
    path = tmp_path / 'ref.pth'
    torch.save(dict(state_dict=hrformer_reference_pose(ours)), path)
    model = build(POSE, False, init_cfg=dict(type='Pretrained',
                                              checkpoint=str(path)))
    got = model.backbone.state_dict()
    assert got.keys() == {k[9:] for k in ours if k.startswith('backbone.')}
    assert all(torch.equal(v, ours['backbone.' + k]) for k, v in got.items())


def test_reference_pose_checkpoint_warns_once_to_build_without_rpe(
        tmp_path, monkeypatch):
    from hrformer_mm.models.backbones import base
    logged = []
    monkeypatch.setattr(base, 'print_log',
                        lambda msg, *a, **k: logged.append((msg, k)))
    ours = our_state(build(POSE, False))
    path = tmp_path / 'ref.pth'
    torch.save(dict(state_dict=hrformer_reference_pose(ours)), path)
    model = build(POSE, True)
    load_checkpoint(model, str(path))
    adapted = [(m, k) for m, k in logged if 'adapted the checkpoint' in m]
    assert len(adapted) == 1
    message, kwargs = adapted[0]
    assert 'with_rpe=False' in message and 'pose release' in message
    assert 'q/k/v projections merged into qkv' in message
    assert kwargs['level'] == 30  # logging.WARNING


def test_segmentation_release_log_says_what_changed(tmp_path, monkeypatch):
    from hrformer_mm.models.backbones import base
    logged = []
    monkeypatch.setattr(base, 'print_log',
                        lambda msg, *a, **k: logged.append(msg))
    ours = our_state(build(SEG))
    path = tmp_path / 'ref.pth'
    torch.save(dict(state_dict=hrformer_reference_seg(ours)), path)
    load_checkpoint(build(SEG), str(path), strict=True)
    adapted = [m for m in logged if 'adapted the checkpoint' in m]
    assert len(adapted) == 1
    # 9 convs in front of a BatchNorm in the reference heads
    assert 'conv biases folded into BatchNorm running means: 9' in adapted[0]
    assert 'segmentation release' in adapted[0]


def test_own_checkpoint_is_loaded_untouched_and_unlogged(tmp_path,
                                                         monkeypatch):
    from hrformer_mm.models.backbones import base
    logged = []
    monkeypatch.setattr(base, 'print_log',
                        lambda msg, *a, **k: logged.append(msg))
    model = build(SEG)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    path = tmp_path / 'ours.pth'
    torch.save(dict(state_dict=state, meta={}), path)
    load_checkpoint(model, str(path), strict=True)
    assert not [m for m in logged if 'adapted the checkpoint' in m]


def test_hook_is_a_fast_no_op_on_our_scheme():
    """HRFormer-B's state dict (1992 keys) in our scheme: the hook
    leaves every entry as it is, having only scanned the names."""
    from hrformer_mm.models.backbones import HRFormer
    from hrformer_mm.models.backbones.base import backbone_load_pre_hook
    backbone = HRFormer('base')
    state = dict(backbone.state_dict())
    before = dict(state)
    start = time.perf_counter()
    for _ in range(10):
        backbone_load_pre_hook(backbone, state, '')
    per_call = (time.perf_counter() - start) / 10
    assert state.keys() == before.keys()
    assert all(state[k] is before[k] for k in state)
    assert per_call < 0.05, per_call  # measured 9 ms on 2 busy cores


# ------------------------------------ tools/test.py CONFIG CKPT, end to end

def _test_py(tmp_path, name, config, ckpt):
    import json
    import pickle

    from e2e_utils import PYTHON, run
    out = tmp_path / name
    proc = run([PYTHON, 'tools/test.py', config, str(ckpt), '--work-dir',
                str(out), '--out', str(out / 'preds.pkl')])
    with open(out / 'preds.pkl', 'rb') as f:
        preds = pickle.load(f)
    metrics = json.loads((out / 'metrics.json').read_text())
    return preds, metrics, proc.stdout + proc.stderr


def _reference_checkpoint_pair(tmp_path, config, to_format):
    _, model = build_model_from_config(config)
    foreign = dict(state_dict=to_format(our_state(model)), meta={})
    return _offline(tmp_path, foreign)


@pytest.mark.e2e
def test_test_py_on_a_reference_pose_checkpoint_as_on_its_conversion(
        tmp_path):
    import numpy as np

    from hrformer_mm.datasets import generate_coco_keypoints

    from e2e_utils import pose_config
    coco = tmp_path / 'coco'
    generate_coco_keypoints(str(coco), num_train=1, num_val=4, seed=5)
    config = pose_config(tmp_path, coco,
                         extra="model['backbone']['with_rpe'] = False")
    src, dst = _reference_checkpoint_pair(tmp_path, config,
                                          hrformer_reference_pose)
    direct, m_direct, log = _test_py(tmp_path, 'direct', config, src)
    converted, m_converted, _ = _test_py(tmp_path, 'converted', config, dst)
    assert 'adapted the checkpoint' in log and 'pose release' in log
    assert len(direct) == len(converted) > 0
    for a, b in zip(direct, converted):
        assert np.array_equal(a['pred_instances']['keypoints'],
                              b['pred_instances']['keypoints'])
    assert m_direct == m_converted


@pytest.mark.e2e
def test_test_py_on_a_reference_seg_checkpoint_as_on_its_conversion(
        tmp_path):
    from hrformer_mm.datasets import generate_ade20k

    from e2e_utils import seg_config
    ade = tmp_path / 'ade'
    generate_ade20k(str(ade), num_train=1, num_val=2, seed=1)
    config = seg_config(tmp_path, ade)
    src, dst = _reference_checkpoint_pair(tmp_path, config,
                                          hrformer_reference_seg)
    direct, m_direct, log = _test_py(tmp_path, 'direct', config, src)
    converted, m_converted, _ = _test_py(tmp_path, 'converted', config, dst)
    assert 'conv biases folded into BatchNorm running means: 9' in log
    assert len(direct) == len(converted) == 2
    for a, b in zip(direct, converted):
        assert torch.equal(a['seg_logits']['data'], b['seg_logits']['data'])
    assert m_direct == m_converted
