"""``tools/fetch_weights.py`` fills torch hub's cache with every checkpoint
a set of configs needs, so that the check of ``tools/train.py`` then
passes on a machine without internet.  The downloader is replaced: no test
touches the network."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from hrformer_mm.checkpoint_sources import OFFLINE_ENV
from hrformer_mm.engine.checks import (CheckpointUnavailableError,
                                       check_checkpoints_available)

from e2e_utils import ROOT, load_tool

POSE = osp.join(ROOT, 'configs/pose/hrformer_s_coco.py')
SEG = osp.join(ROOT, 'configs/seg/hrnetv2_w48_ocr_ade20k.py')
POSE_URL = ('https://download.openmmlab.com/mmpose/pretrain_models/'
            'hrformer_small-09516375_20220226.pth')
SEG_URL = ('https://download.openmmlab.com/pretrain/third_party/'
           'hrnetv2_w48-d2186c55.pth')


@pytest.fixture
def offline_hub(no_network_hub, monkeypatch):
    monkeypatch.setenv(OFFLINE_ENV, '1')
    return osp.join(no_network_hub, 'checkpoints')


@pytest.fixture
def downloads(monkeypatch):
    """torch hub's downloader, replaced by one that writes a small
    checkpoint and records ``(url, file, hash prefix)``."""
    calls = []

    def download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, dst, hash_prefix))
        torch.save({'state_dict': {'w': torch.zeros(1)}}, dst)

    monkeypatch.setattr(torch.hub, 'download_url_to_file', download)
    return calls


def test_fetch_fills_the_cache_and_the_check_then_passes(offline_hub,
                                                         downloads):
    with pytest.raises(CheckpointUnavailableError):
        check_checkpoints_available(Config.fromfile(POSE))
    tool = load_tool('fetch_weights.py')
    assert tool.main([POSE, SEG, POSE]) == 0
    # each URL once; the sha256 prefix of a name-<hex>.pth file is checked
    assert downloads == [
        (POSE_URL, osp.join(offline_hub, osp.basename(POSE_URL)), None),
        (SEG_URL, osp.join(offline_hub, 'hrnetv2_w48-d2186c55.pth'),
         'd2186c55'),
    ]
    check_checkpoints_available(Config.fromfile(POSE))
    check_checkpoints_available(Config.fromfile(SEG))
    assert tool.main([POSE]) == 0
    assert len(downloads) == 2  # nothing downloaded twice


def test_list_prints_key_url_cache_file_and_state_and_downloads_nothing(
        offline_hub, downloads, capsys):
    tool = load_tool('fetch_weights.py')
    torch.save({}, _in(offline_hub, 'hrnetv2_w48-d2186c55.pth'))
    assert tool.main(['--list', POSE, SEG]) == 0
    out = capsys.readouterr().out.splitlines()
    assert downloads == []
    assert out == [
        f'{POSE}:',
        f'  model.backbone.init_cfg.checkpoint  {POSE_URL}  '
        f'{osp.join(offline_hub, osp.basename(POSE_URL))}  missing',
        f'{SEG}:',
        f'  model.backbone.init_cfg.checkpoint  {SEG_URL}  '
        f'{osp.join(offline_hub, "hrnetv2_w48-d2186c55.pth")}  present',
    ]


def test_a_missing_local_checkpoint_cannot_be_fetched(offline_hub, downloads,
                                                      tmp_path, capsys):
    config = tmp_path / 'from_run.py'
    config.write_text(f"_base_ = ['{POSE}']\nload_from = "
                      f"'{tmp_path}/epoch_3.pth'\n")
    assert load_tool('fetch_weights.py').main([str(config)]) == 1
    out = capsys.readouterr().out
    assert f'load_from: {tmp_path}/epoch_3.pth: no such file' in out
    assert [d[0] for d in downloads] == [POSE_URL]


def _in(folder: str, name: str) -> str:
    import os
    os.makedirs(folder, exist_ok=True)
    return osp.join(folder, name)
