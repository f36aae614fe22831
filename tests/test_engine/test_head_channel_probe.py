"""The head-channel check probes the model with its own input channels and
lets real failures stop the run with a message naming them
(hrformer_mm/engine/checks.py).

A backbone built for 1-channel images is probed with 1-channel images: a
3-channel probe would fail, and a wrong head ``in_channels`` would go
through to the first batch with only a warning that the check could not
run."""
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config

from hrformer_mm.engine.checks import (ConfigMismatchError, ModelProbeError,
                                       check_head_channels, feature_channels,
                                       input_channels)
from hrformer_mm.engine.launch import build_model_from_config

from e2e_utils import MICRO_ARCH, ROOT, head_check_message


def _pose(in_channels=3, head_in=8, mean=None):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pose/hrformer_demo_coco.py'))
    cfg.model.backbone.arch = eval(MICRO_ARCH.replace('_delete_=True, ', ''))
    cfg.model.backbone.in_channels = in_channels
    cfg.model.head.in_channels = head_in
    if mean is not None:
        cfg.model.data_preprocessor.update(mean=mean, std=[50.] * len(mean),
                                           bgr_to_rgb=False)
    return build_model_from_config(cfg)


def test_gray_backbone_is_probed_with_one_channel():
    cfg, model = _pose(in_channels=1, mean=[127.])
    assert input_channels(model) == 1
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no "could not check" any more
        assert feature_channels(model)[-1] == 8
        check_head_channels(cfg.model, model)


def test_gray_backbone_with_a_wrong_head_is_refused():
    cfg, model = _pose(in_channels=1, head_in=32, mean=[127.])
    with pytest.raises(ConfigMismatchError,
                       match=r'model.head.in_channels=32 expects 32'):
        check_head_channels(cfg.model, model)


def test_preprocessor_of_other_channels_is_named():
    cfg, model = _pose(in_channels=1)  # the config's 3-value mean / std
    msg = head_check_message(cfg, model, ConfigMismatchError)
    assert 'model.data_preprocessor normalises 3 channels' in msg
    assert 'takes 1-channel images' in msg


def test_a_model_that_cannot_run_stops_the_run_naming_the_error(
        monkeypatch):
    cfg, model = _pose()

    def broken(x):
        raise RuntimeError('stage 3 got 12 channels, expected 16')

    monkeypatch.setattr(model.backbone, 'forward', broken)
    msg = head_check_message(cfg, model, ModelProbeError)
    # both probes, the small one and the config's input size (H, W)
    assert '1x3x64x64: RuntimeError: stage 3 got 12 channels' in msg
    assert '1x3x128x96: RuntimeError' in msg
    assert 'The first batch would fail the same way' in msg


def test_a_model_that_needs_the_config_input_size_is_checked(monkeypatch):
    cfg, model = _pose(head_in=32)
    forward = model.backbone.forward

    def needs_128x96(x):
        if tuple(x.shape[-2:]) != (128, 96):
            raise RuntimeError('input must be 128x96')
        return forward(x)

    monkeypatch.setattr(model.backbone, 'forward', needs_128x96)
    assert feature_channels(model, model_cfg=cfg.model)[-1] == 8
    with pytest.raises(ConfigMismatchError, match='in_channels=32'):
        check_head_channels(cfg.model, model)


def test_out_of_memory_is_only_a_warning(monkeypatch):
    cfg, model = _pose()

    def full(x):
        raise torch.cuda.OutOfMemoryError('CUDA out of memory')

    monkeypatch.setattr(model.backbone, 'forward', full)
    with pytest.warns(UserWarning, match='ran out of memory'):
        check_head_channels(cfg.model, model)


@pytest.mark.parametrize('stance', ['set_stance', 'no set_stance'])
@pytest.mark.slow
def test_the_probe_of_a_compiled_backbone_compiles_nothing(monkeypatch,
                                                           stance):
    # The probe's 64x64 image is a shape training never sees: compiling it
    # (and with mode='reduce-overhead' recording CUDA graphs for it) on every
    # rank would be pure start-up cost.
    from torch._dynamo.testing import CompileCounter
    if stance == 'no set_stance':  # torch < 2.6
        monkeypatch.delattr(torch.compiler, 'set_stance')
    counter = CompileCounter()
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pose/hrformer_demo_coco.py'))
    cfg.model.backbone.arch = eval(MICRO_ARCH.replace('_delete_=True, ', ''))
    cfg.model.backbone.compile_cfg = dict(backend=counter)
    cfg.model.head.in_channels = 32
    cfg, model = build_model_from_config(cfg)
    assert model.backbone.compiled_blocks > 0
    with pytest.raises(ConfigMismatchError, match='in_channels=32'):
        check_head_channels(cfg.model, model)
    assert counter.frame_count == 0
    # the blocks are still compiled: the first real forward compiles them
    with torch.no_grad():
        model.eval().backbone(torch.zeros(1, 3, 64, 64))
    assert counter.frame_count > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_the_probe_records_no_cuda_graphs_with_reduce_overhead():
    from torch._dynamo.utils import counters
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pose/hrformer_demo_coco.py'))
    cfg.model.backbone.arch = eval(MICRO_ARCH.replace('_delete_=True, ', ''))
    cfg.model.backbone.compile_cfg = dict(mode='reduce-overhead')
    cfg.model.head.in_channels = 8
    cfg, model = build_model_from_config(cfg)
    model.cuda()
    counters.clear()
    check_head_channels(cfg.model, model)
    assert counters['stats']['unique_graphs'] == 0
    assert not counters['inductor']  # nothing compiled, no graph recorded
