"""Each facial landmark benchmark's config (AFLW, COFW, 300W) trains on the
built-in faces of its format through tools/train.py and reports every NME
variant of the benchmark through tools/test.py (one test file each; its
``main`` in this process, so the variants share one interpreter's start),
with mmpose's dataset classes, pipelines and NME metric."""
import json
import math
import os.path as osp
import pickle

import pytest

from e2e_utils import PYTHON, ROOT, load_tool, run

# benchmark -> the NME variants it reports (the metafile's metric names)
VARIANTS = {
    'aflw': {'NME full', 'NME frontal'},
    'cofw': {'NME'},
    '300w': {'NME common', 'NME challenge', 'NME full', 'NME test'},
}


def landmark_config(tmp_path, name: str, data_root: str) -> str:
    """``configs/pose/hrnetv2_w18_<name>.py`` with a 4-stream HRNetV2 a few
    channels wide at 64x64, on ``data_root``, one epoch."""
    path = osp.join(str(tmp_path), f'{name}_micro.py')
    with open(path, 'w') as f:
        f.write(f"""
_base_ = ['{ROOT}/configs/pose/hrnetv2_w18_{name}.py']
from hrformer_mm.config_helpers import topdown_pipelines

codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16),
             sigma=1.5)
channels = [8, 16, 32, 64]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, channels=channels, num_modules=(1, 1, 1),
                  num_blocks=1, stage1_blocks=1, stage1_channels=16),
        norm_cfg=norm_cfg, init_cfg=None),
    neck=dict(in_channels=channels, out_channels=16, norm_cfg=norm_cfg),
    head=dict(in_channels=16, decoder=codec))
train_pipeline, val_pipeline = topdown_pipelines(
    codec, half_body=False, shift_prob=0, rotate_factor=30)
loader = dict(batch_size=4, num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader, dataset=dict(data_root='{data_root}/', pipeline=train_pipeline))
val_dataloader = dict(
    **loader, dataset=dict(data_root='{data_root}/', pipeline=val_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
randomness = dict(seed=0)
""")
    return path


@pytest.mark.e2e
@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_landmark_set_trains_and_reports_its_nme_variants(tmp_path, name):
    from mmengine.config import Config

    from hrformer_mm.datasets.synthetic import generate_faces
    data = tmp_path / 'data'
    counts = generate_faces(str(data), name, num_train=8, num_test=6,
                            image_size=(96, 96), seed=1)
    cfg = landmark_config(tmp_path, name, str(data))
    variants = Config.fromfile(cfg).nme_variants
    assert set(variants) == VARIANTS[name]
    run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(tmp_path / 'w')])
    ckpt = tmp_path / 'w' / 'epoch_1.pth'
    assert ckpt.is_file()
    test = load_tool('test.py')
    nme, faces = {}, {}
    for k, (metric, ann_file) in enumerate(sorted(variants.items())):
        faces[metric] = counts[osp.basename(ann_file)]
        assert faces[metric] > 0, ann_file
        out = tmp_path / f'test{k}'
        test.main([cfg, str(ckpt), '--work-dir', str(out), '--out',
                   str(out / 'preds.pkl'), '--cfg-options',
                   f'test_dataloader.dataset.ann_file={ann_file}'])
        metrics = json.loads((out / 'metrics.json').read_text())
        nme[metric] = metrics['NME']
        with open(out / 'preds.pkl', 'rb') as f:
            assert len(pickle.load(f)) == faces[metric]  # that file's faces
    assert set(nme) == VARIANTS[name]
    assert all(math.isfinite(v) and v > 0 for v in nme.values()), nme
    if name == '300w':
        # the full validation set is its common and challenging parts:
        # the NME, a mean over faces, is their face-weighted mean
        parts = ('NME common', 'NME challenge')
        assert nme['NME full'] == pytest.approx(
            sum(nme[p] * faces[p] for p in parts) / faces['NME full'],
            rel=1e-4)
