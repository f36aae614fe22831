"""Checkpoint conversion from the reference release and from mmpose."""
import json
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from hrformer_mm.models.backbones import HRFormer
from hrformer_mm.models.backbones.convert import (convert_checkpoint,
                                                  detect_source)
from hrformer_mm.testing import mmpose_hrformer_extra

from e2e_utils import PYTHON, pose_config, run
from weights_utils import (HRFORMER_ARCH, hrformer_reference_imagenet,
                           hrformer_reference_pose, reference_imagenet_head)

TINY = HRFORMER_ARCH


def _pose_state():
    torch.manual_seed(0)
    backbone = HRFormer(TINY, out_indices=(0, ))
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state['head.final_layer.weight'] = torch.randn(17, 8, 1, 1)
    state['head.final_layer.bias'] = torch.randn(17)
    return state


def test_detects_the_key_scheme():
    state = _pose_state()
    assert detect_source(state) == 'mmpose'
    assert detect_source(hrformer_reference_pose(state)) == 'official'


def test_reference_classification_checkpoint_converts_exactly():
    state = {k[len('backbone.'):]: v for k, v in _pose_state().items()
             if k.startswith('backbone.')}
    ref = hrformer_reference_imagenet(state)
    new, report = convert_checkpoint(ref, 'official')
    assert new.keys() == state.keys()
    assert all(torch.equal(new[k], state[k]) for k in state)
    assert report.with_rpe  # ImageNet models did use the bias
    assert sorted(report.dropped['ImageNet classification head']) == sorted(
        reference_imagenet_head(TINY['channels'][0])) == [
        'classifier.bias', 'classifier.weight', 'final_layer.0.weight',
        'incre_modules.0.0.conv1.weight']
    assert report.merged_qkv == sum(1 for k in state if '.qkv.' in k)
    result = HRFormer(TINY, out_indices=(0, )).load_state_dict(new,
                                                               strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_reference_pose_checkpoint_turns_the_unused_bias_off():
    state = _pose_state()
    new, report = convert_checkpoint(hrformer_reference_pose(state))
    assert report.source == 'official' and report.with_rpe is False
    assert 'with_rpe=False' in report.summary()
    expected = {k: v for k, v in state.items()
                if not k.endswith('relative_position_bias_table')}
    assert new.keys() == expected.keys()
    assert all(torch.equal(new[k], expected[k]) for k in expected)
    backbone = HRFormer(TINY, out_indices=(0, ), with_rpe=False)
    backbone.load_state_dict(
        {k[9:]: v for k, v in new.items() if k.startswith('backbone.')},
        strict=True)


def test_keep_rpe_keeps_the_reference_pose_bias_tables():
    state = _pose_state()
    new, report = convert_checkpoint(hrformer_reference_pose(state),
                                     keep_rpe=True)
    assert report.with_rpe
    assert new.keys() == state.keys()


def test_mmpose_checkpoint_only_loses_the_derived_index_buffers():
    mmpose_backbones = pytest.importorskip('mmpose.models.backbones')
    ref = mmpose_backbones.HRFormer(
        mmpose_hrformer_extra(TINY), norm_cfg=dict(type='BN'))
    state = ref.state_dict()
    new, report = convert_checkpoint(state, 'mmpose')
    n_index = sum(k.endswith('relative_position_index') for k in state)
    assert n_index > 0
    assert len(report.dropped['derived buffer, recomputed by the model']) \
        == n_index
    result = HRFormer(TINY, out_indices=(0, )).load_state_dict(new,
                                                               strict=True)
    assert not result.missing_keys


def test_incomplete_qkv_is_an_error():
    state = hrformer_reference_pose(_pose_state())
    key = next(k for k in state if k.endswith('k_proj.weight'))
    del state[key]
    with pytest.raises(KeyError, match='incomplete q/k/v'):
        convert_checkpoint(state, 'official')


def _mmpose_native_config(tmp_path, coco_root):
    """The micro pose config with mmpose's own HRFormer as backbone, and
    with ours (``TINY``)."""
    base = pose_config(tmp_path, coco_root)
    extra = mmpose_hrformer_extra(TINY)
    configs = []
    for name, backbone in (
            ('mmpose_native', f"type='HRFormer', extra={extra!r}, "
             "norm_cfg=dict(type='BN')"),
            ('ours', f"type='hrformer_mm.HRFormer', arch={TINY!r}, "
             'out_indices=(0, )')):
        path = osp.join(str(tmp_path), f'{name}.py')
        with open(path, 'w') as f:
            f.write(f"_base_ = ['{base}']\nmodel = dict(backbone=dict("
                    f'_delete_=True, {backbone}))\n')
        configs.append(path)
    return configs


@pytest.mark.e2e
def test_converted_mmpose_checkpoint_gives_mmpose_predictions(tmp_path):
    """tools/convert_checkpoint.py --src mmpose, then tools/test.py: the same
    keypoints (and so the same AP) as mmpose's own HRFormer with the original
    checkpoint."""
    from hrformer_mm.datasets import generate_coco_keypoints
    mmpose_backbones = pytest.importorskip('mmpose.models.backbones')
    coco = tmp_path / 'coco'
    generate_coco_keypoints(str(coco), num_train=1, num_val=4, seed=5)
    native_cfg, ours_cfg = _mmpose_native_config(tmp_path, coco)

    # PyTorch's default init (not mmpose's std=0.001 convs) and a strong
    # head: heatmaps with clear peaks, so that argmax decoding is not decided
    # by float rounding.
    torch.manual_seed(0)
    backbone = mmpose_backbones.HRFormer(mmpose_hrformer_extra(TINY),
                                         norm_cfg=dict(type='BN'))
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state['head.final_layer.weight'] = torch.randn(17, 8, 1, 1)
    state['head.final_layer.bias'] = torch.zeros(17)
    original = tmp_path / 'mmpose.pth'
    torch.save(dict(state_dict=state, meta={}), original)

    converted = tmp_path / 'ours.pth'
    proc = run([PYTHON, 'tools/convert_checkpoint.py', '--src', 'mmpose',
                str(original), str(converted), '--config', ours_cfg])
    assert 'missing keys: 0' in proc.stdout

    preds = {}
    for name, cfg, ckpt in (('mmpose', native_cfg, original),
                            ('ours', ours_cfg, converted)):
        out = tmp_path / name
        run([PYTHON, 'tools/test.py', cfg, str(ckpt), '--work-dir',
             str(out), '--out', str(out / 'preds.pkl')])
        with open(out / 'preds.pkl', 'rb') as f:
            preds[name] = pickle.load(f)
        preds[name + '_ap'] = json.loads(
            (out / 'metrics.json').read_text())['coco/AP']
    assert len(preds['mmpose']) == len(preds['ours']) > 0
    for a, b in zip(preds['mmpose'], preds['ours']):
        ka = a['pred_instances']['keypoints']
        kb = b['pred_instances']['keypoints']
        # sub-pixel (DARK) refinement turns 1e-7 heatmap differences into
        # hundredths of a pixel
        assert np.abs(ka - kb).max() < 0.05
    assert preds['mmpose_ap'] == preds['ours_ap']
