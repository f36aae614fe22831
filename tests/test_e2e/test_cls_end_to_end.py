"""The classification demo's chain at a micro size: the HRFormer classifier
of configs/cls/hrformer_demo_imagenet.py trains (tools/train.py) on the
built-in ImageNet-layout data through mmpretrain's CustomDataset, tools/test.py
reports its top-1 (mmpretrain's Accuracy) trained and untrained, and the
checkpoint it wrote initialises the pose demo's backbone
(``init_cfg=dict(type='Pretrained', prefix='backbone.')``) with nothing
missing."""
import json
import os.path as osp
import pickle

import pytest
import torch
from mmengine.config import Config

from hrformer_mm.datasets.synthetic import CLS_CLASSES, generate_imagenet
from hrformer_mm.engine.checks import load_state_dict_from_file

from e2e_utils import MICRO_ARCH, PYTHON, ROOT, pose_config, run
from train_logs import train_and_read_log

DEMO_CFG = osp.join(ROOT, 'configs', 'cls', 'hrformer_demo_imagenet.py')
POSE_DEMO_CFG = osp.join(ROOT, 'configs', 'pose', 'hrformer_demo_coco.py')


def _backbone_keys(config: str) -> dict:
    from hrformer_mm.engine.launch import build_model_from_config
    _, model = build_model_from_config(config)
    return {k[len('backbone.'):]: v.shape for k, v in
            model.state_dict().items() if k.startswith('backbone.')}


def test_demo_classifier_backbone_covers_the_pose_demo_backbone():
    """The demo configs themselves: every tensor of the pose demo's
    backbone is in the classification demo's, with its shape."""
    cls_keys = _backbone_keys(DEMO_CFG)
    pose_keys = _backbone_keys(POSE_DEMO_CFG)
    assert set(pose_keys) <= set(cls_keys), sorted(
        set(pose_keys) - set(cls_keys))[:10]
    assert {k: cls_keys[k] for k in pose_keys} == pose_keys
    cfg, pose = Config.fromfile(DEMO_CFG), Config.fromfile(POSE_DEMO_CFG)
    for key in ('arch', 'drop_path_rate', 'norm_cfg'):
        assert cfg.model.backbone[key] == pose.model.backbone[key], key


def cls_config(tmp_path, data_root: str, image_size: int = 32) -> str:
    """The demo config at the micro size: the micro arch, and the demo's own
    training pipeline (read from it) cropping to the micro images' size."""
    train_pipeline = [t.to_dict() for t in
                      Config.fromfile(DEMO_CFG).train_pipeline]
    crops = [t for t in train_pipeline if t['type'] == 'RandomResizedCrop']
    assert len(crops) == 1, train_pipeline
    crops[0]['scale'] = image_size
    path = osp.join(str(tmp_path), 'cls_micro.py')
    with open(path, 'w') as f:
        f.write(f"""
_base_ = ['{DEMO_CFG}']
data_root = '{data_root}/'
model = dict(
    backbone=dict(arch={MICRO_ARCH}),
    neck=dict(in_channels=(8, 16, 32, 64)))
train_pipeline = {train_pipeline!r}
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=5, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = [dict(type='ConstantLR', factor=1.0)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
""")
    return path


def test_classifier_trains_tests_and_initialises_pose_backbone(tmp_path):
    imagenet_root = str(tmp_path / 'imagenet')
    generate_imagenet(imagenet_root, num_train=2, num_val=1,
                      image_size=(32, 32), seed=1)
    cfg = cls_config(tmp_path, imagenet_root)
    work = tmp_path / 'train'
    records = train_and_read_log(cfg, work)
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()
    train = [r for r in records if 'loss' in r]
    assert len(train) == 5  # 20 images, batches of 4, logged every one
    assert all(0.0 < r['loss'] < 1e3 for r in train)
    # the end-of-training validation ran the Accuracy metric
    assert any('accuracy/top1' in r for r in records)
    for name, out in (('trained', str(ckpt)), ('untrained', 'none')):
        test_dir = tmp_path / name
        run([PYTHON, 'tools/test.py', cfg, out, '--work-dir', str(test_dir),
             '--out', str(test_dir / 'preds.pkl')])
        result = json.loads((test_dir / 'metrics.json').read_text())
        with open(test_dir / 'preds.pkl', 'rb') as f:
            preds = pickle.load(f)
        # top-1 over every validation image (one per class), as the
        # predictions written next to it give it
        assert len(preds) == len(CLS_CLASSES), name
        hits = [int(p['pred_label'][0]) == int(p['gt_label'][0])
                for p in preds]
        assert result['accuracy/top1'] == pytest.approx(
            100.0 * sum(hits) / len(hits)), (name, result)

    # the chain classification checkpoint -> init_cfg=Pretrained -> pose
    state = load_state_dict_from_file(str(ckpt))  # the project's safe load
    assert {k.split('.')[0] for k in state} == {'backbone', 'neck', 'head'}
    from hrformer_mm.engine.launch import build_model_from_config
    pose_cfg = Config.fromfile(pose_config(tmp_path, str(tmp_path / 'coco')))
    pose_cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=str(ckpt), prefix='backbone.')
    _, pose = build_model_from_config(pose_cfg, pretrained=True)
    before = {k: v.clone() for k, v in pose.backbone.state_dict().items()}
    pose.init_weights()
    after = pose.backbone.state_dict()
    missing = [k for k in after if 'backbone.' + k not in state]
    assert not missing, missing[:10]
    for k, v in after.items():
        assert torch.equal(v, state['backbone.' + k]), k
    # the weights did change: not a model that happened to start equal
    assert any(not torch.equal(before[k], after[k]) for k in after
               if after[k].is_floating_point())
