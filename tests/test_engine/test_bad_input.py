"""Bad input fails early, with a message that names the problem."""
import os.path as osp

import pytest
import torch

from hrformer_mm.engine import check_checkpoint_matches
from hrformer_mm.engine.checks import (CheckpointMismatchError,
                                       DataFileNotFoundError)
from hrformer_mm.engine.launch import parse_cfg_for_test, parse_cfg_for_train
from hrformer_mm.models.backbones import HRFormer

from e2e_utils import PYTHON, ROOT, run

POSE_CFG = osp.join(ROOT, 'configs/pose/hrformer_s_coco.py')


def test_missing_annotation_file_is_named_before_training(tmp_path):
    with pytest.raises(DataFileNotFoundError) as err:
        parse_cfg_for_train([POSE_CFG, '--work-dir', str(tmp_path),
                             '--cfg-options',
                             f'train_dataloader.dataset.data_root={tmp_path}/'])
    msg = str(err.value)
    assert f'{tmp_path}/annotations/person_keypoints_train2017.json' in msg
    assert 'train_dataloader.dataset.ann_file' in msg
    assert 'generate_demo_data.py' in msg


def test_missing_test_files_are_named_by_test_py(tmp_path):
    proc = run([PYTHON, 'tools/test.py', POSE_CFG, 'none.pth',
                '--work-dir', str(tmp_path)], check=False)
    assert proc.returncode != 0
    assert 'DataFileNotFoundError' in proc.stderr
    assert 'data/coco/annotations/person_keypoints_val2017.json' in \
        proc.stderr


def test_checkpoint_of_another_variant_is_rejected(tmp_path):
    base = HRFormer('base', out_indices=(0, ))
    path = tmp_path / 'hrformer_b.pth'
    torch.save(dict(state_dict=base.state_dict()), path)
    with pytest.raises(CheckpointMismatchError,
                       match='other shapes') as err:
        check_checkpoint_matches(HRFormer('small', out_indices=(0, )),
                                 str(path))
    msg = str(err.value)
    assert 'conv1.weight' not in msg  # the stem matches, the streams don't
    assert 'checkpoint (78,) vs model (32,)' in msg  # B's vs S's width
    assert '... and' in msg  # long lists are cut


def test_checkpoint_of_another_model_entirely_is_rejected(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save(dict(state_dict={'fc.weight': torch.zeros(2, 2)}), path)
    with pytest.raises(CheckpointMismatchError, match='are missing'):
        check_checkpoint_matches(HRFormer('tiny'), str(path))


def test_matching_checkpoint_passes(tmp_path):
    m = HRFormer('tiny')
    path = tmp_path / 'ok.pth'
    torch.save(dict(state_dict=m.state_dict(), meta={}), path)
    check_checkpoint_matches(m, str(path))


def test_truncated_checkpoint_is_called_corrupt(tmp_path):
    m = HRFormer('tiny')
    path = tmp_path / 'cut.pth'
    torch.save(dict(state_dict=m.state_dict()), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointMismatchError, match='corrupt'):
        check_checkpoint_matches(m, str(path))


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        check_checkpoint_matches(HRFormer('tiny'), str(tmp_path / 'nope.pth'))


def test_missing_config_is_named():
    with pytest.raises(FileNotFoundError, match='configs/nope.py'):
        parse_cfg_for_test(['configs/nope.py', 'x.pth'])


def test_amp_without_gpu_says_so(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(RuntimeError, match='--amp needs a GPU'):
        parse_cfg_for_train([POSE_CFG, '--amp'])


def test_bare_backbone_checkpoint_as_load_from_gets_a_hint(tmp_path):
    import torch.nn as nn
    model = nn.Module()
    model.backbone = HRFormer('tiny')
    path = tmp_path / 'imagenet.pth'
    torch.save(dict(state_dict=HRFormer('tiny').state_dict()), path)
    with pytest.raises(CheckpointMismatchError, match="type='Pretrained'"):
        check_checkpoint_matches(model, str(path))
