"""Every checkpoint a config names is checked before any work starts
(hrformer_mm/engine/checks.py, hrformer_mm/checkpoint_sources.py): on a
compute node without internet a URL that is not in torch hub's cache, or a
local file that is not there, stops ``tools/train.py`` / ``tools/test.py``
with :class:`CheckpointUnavailableError` naming the config key, the URL, the
file it would be read from and how to pass a local copy.

No test here touches the network: sockets refuse to connect, and where a
test needs an answer from a server, ``urlopen`` is replaced."""
import os.path as osp
import urllib.error
import urllib.request

import pytest
import torch
from mmengine.config import Config

from hrformer_mm.checkpoint_sources import (OFFLINE_ENV, checkpoints_named,
                                            hub_cache_path, resolve)
from hrformer_mm.engine.checks import (CheckpointUnavailableError,
                                       check_checkpoint_matches,
                                       check_checkpoints_available)

from e2e_utils import ROOT, coco_data, load_tool, pose_config

HRFORMER_S = ('https://download.openmmlab.com/mmpose/pretrain_models/'
              'hrformer_small-09516375_20220226.pth')


@pytest.fixture
def no_network(no_network_hub, monkeypatch):
    """An empty torch hub cache under ``tmp_path`` and no network, with
    downloads allowed (they fail)."""
    monkeypatch.delenv(OFFLINE_ENV, raising=False)
    return no_network_hub


def _cache(url: str, state=None) -> str:
    path = hub_cache_path(url)
    torch.save(state if state is not None else {'w': torch.zeros(1)},
               _makedirs(path))
    return path


def _makedirs(path: str) -> str:
    import os
    os.makedirs(osp.dirname(path), exist_ok=True)
    return path


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    return coco_data(tmp_path_factory, num_val=2, num_train=2)


def _pose_cfg(tmp_path, coco_root, init_cfg: dict) -> str:
    """The micro pose config with ``model.backbone.init_cfg``."""
    return pose_config(tmp_path, coco_root,
                       extra=f"model['backbone']['init_cfg'] = {init_cfg!r}")


@pytest.fixture
def tool_without_runner(monkeypatch):
    """``tools/train.py`` / ``tools/test.py`` whose runner must not be
    built: the check has to stop the run before."""

    def load(name):
        tool = load_tool(name)

        def build_runner(cfg):
            raise AssertionError('the runner was built')

        monkeypatch.setattr(tool, 'build_runner', build_runner)
        return tool

    return load


def test_train_stops_before_the_runner_on_an_uncached_url_without_network(
        no_network, tmp_path, coco_root, tool_without_runner):
    config = _pose_cfg(tmp_path, coco_root, dict(type='Pretrained',
                                                checkpoint=HRFORMER_S))
    with pytest.raises(CheckpointUnavailableError) as err:
        tool_without_runner('train.py').main(
            [config, '--work-dir', str(tmp_path / 'work')])
    msg = str(err.value)
    cached = osp.join(no_network, 'checkpoints',
                      'hrformer_small-09516375_20220226.pth')
    assert 'model.backbone.init_cfg.checkpoint' in msg
    assert HRFORMER_S in msg
    assert cached in msg
    assert 'Name or service not known' in msg
    assert ('--cfg-options model.backbone.init_cfg.checkpoint=/path/to/'
            'hrformer_small-09516375_20220226.pth') in msg
    assert f'python tools/fetch_weights.py {config}' in msg
    # the local copy the message suggests is taken
    copy = str(tmp_path / 'hrformer_small-09516375_20220226.pth')
    torch.save({}, copy)
    with pytest.raises(AssertionError, match='the runner was built'):
        tool_without_runner('train.py').main(
            [config, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
             f'model.backbone.init_cfg.checkpoint={copy}'])


def test_a_cached_url_passes_without_the_network(no_network, monkeypatch):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pose/hrformer_s_coco.py'))
    url = cfg.model.backbone.init_cfg.checkpoint
    _cache(url)

    def urlopen(*args, **kwargs):
        raise AssertionError('the network was asked')

    monkeypatch.setattr(urllib.request, 'urlopen', urlopen)
    check_checkpoints_available(cfg)


def test_offline_mode_requires_the_cache_and_asks_no_server(
        no_network, monkeypatch):
    monkeypatch.setenv(OFFLINE_ENV, '1')

    def urlopen(*args, **kwargs):
        raise AssertionError('the network was asked')

    monkeypatch.setattr(urllib.request, 'urlopen', urlopen)
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pose/hrformer_s_coco.py'))
    with pytest.raises(CheckpointUnavailableError,
                       match=f'{OFFLINE_ENV}=1 is set'):
        check_checkpoints_available(cfg)


class _Answer:
    def __init__(self, requests):
        self.requests = requests

    def __call__(self, request, timeout=None):
        self.requests.append((request.get_method(), request.full_url,
                              timeout))
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_reachable_url_passes_with_one_head_request_and_no_download(
        no_network, monkeypatch):
    requests = []
    monkeypatch.setattr(urllib.request, 'urlopen', _Answer(requests))
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pose/hrformer_s_coco.py'))
    check_checkpoints_available(cfg)
    assert [(m, u) for m, u, _ in requests] == [('HEAD', HRFORMER_S)]
    assert 0 < requests[0][2] <= 10
    assert not osp.exists(hub_cache_path(HRFORMER_S))


def test_a_url_the_server_does_not_have_is_refused(no_network, monkeypatch):

    def urlopen(request, timeout=None):
        raise urllib.error.HTTPError(request.full_url, 404, 'Not Found',
                                     None, None)

    monkeypatch.setattr(urllib.request, 'urlopen', urlopen)
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pose/hrformer_s_coco.py'))
    with pytest.raises(CheckpointUnavailableError,
                       match='the server answered 404'):
        check_checkpoints_available(cfg)


def test_a_missing_load_from_file_is_refused_before_the_runner(
        no_network, tmp_path, coco_root, tool_without_runner):
    config = pose_config(tmp_path, coco_root)
    missing = str(tmp_path / 'nowhere' / 'epoch_3.pth')
    with pytest.raises(CheckpointUnavailableError) as err:
        tool_without_runner('train.py').main(
            [config, '--work-dir', str(tmp_path / 'work'),
             '--cfg-options', f'load_from={missing}'])
    msg = str(err.value)
    assert f'load_from = {missing}' in msg
    assert 'no such file' in msg
    assert '--cfg-options load_from=/path/to/epoch_3.pth' in msg


def test_resuming_from_a_missing_file_is_refused_before_the_runner(
        no_network, tmp_path, coco_root, tool_without_runner):
    config = pose_config(tmp_path, coco_root)
    missing = str(tmp_path / 'epoch_3.pth')
    with pytest.raises(CheckpointUnavailableError) as err:
        tool_without_runner('train.py').main(
            [config, '--work-dir', str(tmp_path / 'work'), '--resume',
             missing])
    msg = str(err.value)
    assert f'load_from = {missing} (--resume)' in msg
    assert '--resume /path/to/epoch_3.pth' in msg


def test_test_tool_checks_its_checkpoint_but_not_the_pretrained_weights(
        no_network, tmp_path, coco_root, tool_without_runner):
    # evaluation never runs init_weights: the ImageNet weights are not read
    config = _pose_cfg(tmp_path, coco_root, dict(type='Pretrained',
                                                checkpoint=HRFORMER_S))
    tool = tool_without_runner('test.py')
    missing = str(tmp_path / 'best.pth')
    with pytest.raises(CheckpointUnavailableError) as err:
        tool.main([config, missing, '--work-dir', str(tmp_path / 'w')])
    msg = str(err.value)
    assert f'load_from = {missing} (the CHECKPOINT argument)' in msg
    assert 'init_cfg' not in msg
    with pytest.raises(AssertionError, match='the runner was built'):
        tool.main([config, 'none', '--work-dir', str(tmp_path / 'w')])


def test_every_pretrained_init_cfg_of_the_model_tree_is_named():
    cfg = Config(dict(model=dict(
        type='EncoderDecoder',
        pretrained='/weights/whole.pth',
        backbone=dict(type='HRFormer', init_cfg=[
            dict(type='Kaiming', layer='Conv2d'),
            dict(type='Pretrained', checkpoint='/weights/b.pth')]),
        decode_head=[
            dict(type='FCNHead'),
            dict(type='OCRHead', init_cfg=dict(
                type='mmengine.Pretrained', checkpoint=HRFORMER_S,
                prefix='decode_head.1.'))],
        neck=dict(type='FPN', init_cfg=dict(type='Pretrained',
                                            checkpoint=None))),
        load_from='/runs/epoch_1.pth'))
    named = {s.key: s.spec for s in checkpoints_named(cfg)}
    assert named == {
        'model.pretrained': '/weights/whole.pth',
        'model.backbone.init_cfg.1.checkpoint': '/weights/b.pth',
        'model.decode_head.1.init_cfg.checkpoint': HRFORMER_S,
        'load_from': '/runs/epoch_1.pth',
    }
    assert [s.key for s in checkpoints_named(cfg, training=False)] == \
        ['load_from']


def test_mmengine_prefixes_resolve_to_their_url_and_cache_file(no_network):
    src = resolve('open-mmlab://msra/hrnetv2_w48')
    assert src.url == ('https://download.openmmlab.com/pretrain/third_party/'
                       'hrnetv2_w48-d2186c55.pth')
    assert src.path == osp.join(no_network, 'checkpoints',
                                'hrnetv2_w48-d2186c55.pth')
    tv = resolve('torchvision://resnet50')
    assert tv.url.startswith('https://download.pytorch.org/models/resnet50')
    assert tv.path == osp.join(no_network, 'checkpoints',
                               osp.basename(tv.url))
    assert resolve('~/w.pth').path == osp.expanduser('~/w.pth')
    # schemes only their own backends read: named, not checked
    for spec in ('s3://bucket/w.pth', 'pavi://model/1'):
        src = resolve(spec)
        assert (src.url, src.path, src.error) == (None, None, None)
    assert 'no entry' in resolve('open-mmlab://msra/no_such_net').error


def test_the_http_loader_reads_the_file_the_check_names(no_network):
    from mmengine.runner.checkpoint import CheckpointLoader
    _cache(HRFORMER_S, {'w': torch.full((2,), 7.)})
    loaded = CheckpointLoader.load_checkpoint(HRFORMER_S)
    assert loaded['w'].tolist() == [7., 7.]


def test_a_cached_url_load_from_is_compared_with_the_model(no_network):
    model = torch.nn.Sequential(torch.nn.Linear(2, 3))
    url = 'https://example.org/runs/epoch_1.pth'
    _cache(url, {'state_dict': model.state_dict()})
    check_checkpoint_matches(model, url)
