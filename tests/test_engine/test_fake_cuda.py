"""Training, inference and the checkpoint round trip of every model family
with model and data on 'cuda' under bf16 autocast, on machines without a
GPU.

torch's ``FakeTensorMode`` makes tensors that carry a device, a dtype and a
shape but no data: each operation runs only its shape, dtype and device
rules (meta kernels).  A non-scalar tensor on the CPU meeting a CUDA one
raises ``FakeTensorDeviceMismatchError`` as on a GPU (a buffer that
``.to('cuda')`` did not move, a mask built on the CPU in ``forward``), and
``torch.autocast('cuda')`` casts what it casts on a GPU (the autocast
dispatch key sits above the fake tensors).  Code that asks for the device
(``x.device.type == 'cuda'``) takes its GPU branch.  Each family is built
from its zoo config by mmpose's registry (SyncBN included: one process, so
it runs as BN), moved with ``model.to('cuda')`` as the Runner does, and run
under the autocast of mmengine's ``AmpOptimWrapper`` with bf16.

What these tests cannot cover, and a GPU run must:

* values: no kernel runs, so no numerics, no NaN / overflow in bf16, and
  nothing about speed or memory;
* the backward pass: torch's autograd engine asks the CUDA driver about
  its devices before it runs a graph with CUDA nodes (``hasPrimaryContext``
  in ``stash_current_streams``), which fails without a driver.  The
  optimizer step is given the gradients backward would leave (each
  trainable parameter's shape, dtype and device).  The package defines no
  autograd functions of its own: its backward is torch's derivative of the
  forward checked here;
* which implementation torch picks: SDPA's kernel (flash,
  memory-efficient, math) and its constraints, cuDNN's algorithms, the
  optimizer's (a GPU runs the foreach Adam; fake tensors are not among the
  types torch sends to it, so the per-tensor loop runs here);
* host reads (``.item()``, numpy), which need data.  mmpose's training
  accuracy (numpy, for the log) is given host arrays of the right shapes;
  mmengine's dynamic loss scaler reads ``found_inf`` on the host, so the
  optimizer wrapper runs without loss scaling (bf16 needs none); a resumed
  optimizer reads its step count with ``.item()``, so no step follows the
  resume; inference stops at the network's output (``mode='tensor'``)
  before mmpose's numpy decoding; mmengine's list-of-images collation,
  which sizes the batch on the host, is replaced by a stacked batch;
* the RNG values of a checkpoint (covered with real data by
  test_rng_state_hook.py): the generators need the state's bytes;
* streams, events, CUDA graphs, ``torch.compile``, NCCL and anything with
  more than one process or GPU.
"""
import contextlib
import copy
import functools
import logging
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model,
                                        save_checkpoint, weights_to_cpu)
from mmengine.structures import InstanceData, PixelData
from mmengine.utils import apply_to
from torch._subclasses.fake_tensor import (FakeTensor,
                                           FakeTensorDeviceMismatchError,
                                           FakeTensorMode)

from hrformer_mm.engine.hooks import RNGStateHook

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

FAMILIES = {
    'hrformer_t': 'pose/hrformer_t_coco.py',
    'hrformer_s': 'pose/hrformer_s_coco.py',
    'hrformer_b': 'pose/hrformer_b_coco.py',
    'hrvit_b1': 'pose/hrvit_b1_coco.py',
    'hrnet_w18': 'pose/hrnetv2_w18_wflw.py',
    'hrpvt_b2': 'pose/hrpvt_b2_simcc_coco.py',
}
BATCH = 2


def _host_array(x):
    """What ``.cpu().numpy()`` returns, without the values."""
    if isinstance(x, (tuple, list)):
        return type(x)(_host_array(v) for v in x)
    return np.zeros(tuple(x.shape), dtype=np.float32)


@pytest.fixture(scope='module')
def fake_cuda():
    """A FakeTensorMode in which 'cuda' is the device torch and mmengine
    find, as on a one-GPU machine."""
    import mmengine.device.utils
    import mmpose.models.heads.coord_cls_heads.simcc_head as simcc_head
    import mmpose.models.heads.heatmap_heads.heatmap_head as heatmap_head
    with pytest.MonkeyPatch.context() as mp:
        for name, value in dict(
                is_available=lambda: True, device_count=lambda: 1,
                current_device=lambda: 0,
                is_bf16_supported=lambda *a, **k: True).items():
            mp.setattr(torch.cuda, name, value)
        # mmengine's get_device(): AmpOptimWrapper's autocast device and
        # Runner.resume's map_location
        mp.setattr(mmengine.device.utils, 'DEVICE', 'cuda')
        # with CUDA reported available, FakeTensorMode would initialise the
        # real CUDA runtime when it is entered
        mp.setattr(FakeTensorMode, 'avoid_device_init',
                   property(lambda self: True))
        for head in (heatmap_head, simcc_head):
            mp.setattr(head, 'to_numpy', _host_array)
        # the model itself is built from real tensors on the CPU
        yield FakeTensorMode(allow_non_fake_inputs=True)


def build(family: str):
    """The zoo config's pose model, on the CPU, without pretrained weights
    (a URL).  Returns ``(cfg, model)``."""
    from mmpose.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs', FAMILIES[family]))
    init_default_scope(cfg.default_scope)
    cfg.model.backbone.init_cfg = None
    return cfg, MODELS.build(cfg.model)


def batch(cfg, mode=None) -> dict:
    """A batch as the dataloader hands it over: uint8 images and targets
    on the CPU, at the config's input size (fake ones in a fake ``mode``).
    """
    from mmpose.structures import PoseDataSample
    codec = cfg.codec
    w, h = codec['input_size']
    k = cfg.model.head.out_channels
    with mode or contextlib.nullcontext():
        inputs = torch.randint(0, 256, (BATCH, 3, h, w), dtype=torch.uint8)
        samples = []
        for _ in range(BATCH):
            labels = InstanceData(keypoint_weights=torch.ones(1, k))
            sample = PoseDataSample(metainfo=dict(input_size=(w, h)))
            if 'heatmap_size' in codec:
                hw, hh = codec['heatmap_size']
                sample.gt_fields = PixelData(heatmaps=torch.rand(k, hh, hw))
            else:
                r = codec['simcc_split_ratio']
                labels.keypoint_x_labels = torch.rand(1, k, int(w * r))
                labels.keypoint_y_labels = torch.rand(1, k, int(h * r))
            sample.gt_instance_labels = labels
            samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def bf16_optim_wrapper(cfg, model, loss_scale=None):
    """The config's optimizer (and param-wise settings) in mmengine's
    AmpOptimWrapper with bf16 autocast, by default without loss scaling."""
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    optim_cfg.update(type='AmpOptimWrapper', dtype='bfloat16',
                     loss_scale=loss_scale or dict(enabled=False))
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # a line per parameter otherwise
    try:
        return build_optim_wrapper(model, optim_cfg)
    finally:
        logger.setLevel(level)


def give_gradients(model) -> None:
    """What ``loss.backward()`` leaves (see the module docstring): a
    gradient of each trainable parameter's shape, dtype and device."""
    for p in model.parameters():
        if p.requires_grad:
            p.grad = torch.zeros_like(p)


def layer_outputs(model) -> dict:
    """``{name: (dtype, device)}`` of every convolution's and linear
    layer's output, filled as the model runs."""
    seen = {}

    def record(name):
        def hook(module, args, output):
            seen[name] = (output.dtype, output.device)
        return hook

    for name, m in model.named_modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.register_forward_hook(record(name))
    return seen


CUDA = torch.device('cuda', 0)


@functools.lru_cache(maxsize=None)
def trained(family: str, fake_mode):
    """``family`` moved to the GPU and run forward with its loss in training
    mode, under the autocast of mmengine's AmpOptimWrapper with bf16 (what
    ``--amp`` with ``optim_wrapper.dtype=bfloat16`` runs)."""
    from mmengine.runner.amp import autocast
    cfg, model = build(family)
    with fake_mode:
        model.to('cuda')
        outputs = layer_outputs(model)
        model.train()
        with autocast(dtype=torch.bfloat16):
            data = model.data_preprocessor(batch(cfg, fake_mode), True)
            losses = model._run_forward(data, mode='loss')
        loss, _ = model.parse_losses(losses)
    return dict(cfg=cfg, model=model, loss=loss, inputs=data['inputs'],
                outputs=dict(outputs))


@functools.lru_cache(maxsize=None)
def stepped(family: str, fake_mode):
    """:func:`trained`, then one step of the config's optimizer."""
    result = dict(trained(family, fake_mode))
    cfg, model = result['cfg'], result['model']
    with fake_mode:
        optim_wrapper = bf16_optim_wrapper(cfg, model)
        give_gradients(model)
        optim_wrapper.step()
        optim_wrapper.zero_grad()
    result['optim_wrapper'] = optim_wrapper
    return result


def test_fake_cuda_raises_on_a_tensor_left_on_the_cpu(fake_cuda):
    """What every test here relies on: a host tensor meeting a CUDA one
    fails as on a GPU, CPU scalars mix as on a GPU, and autocast('cuda')
    casts."""
    with fake_cuda:
        x = torch.empty(2, 3, device='cuda')
        assert isinstance(x, FakeTensor) and x.device == CUDA
        assert (x * torch.tensor(2.)).device == CUDA
        with pytest.raises(FakeTensorDeviceMismatchError):
            x + torch.ones(2, 3)
        with torch.autocast('cuda', dtype=torch.bfloat16):
            y = torch.nn.functional.linear(x, torch.empty(4, 3,
                                                          device='cuda'))
        assert y.dtype == torch.bfloat16


@pytest.mark.parametrize('family', list(FAMILIES))
@pytest.mark.slow
def test_training_forward_and_loss_on_cuda_in_bf16(family, fake_cuda):
    result = trained(family, fake_cuda)
    model = result['model']
    assert {p.device for p in model.parameters()} == {CUDA}
    assert {b.device for b in model.buffers()} == {CUDA}
    assert result['inputs'].device == CUDA
    # every convolution and linear layer ran on the GPU, in bf16
    assert result['outputs']
    assert set(result['outputs'].values()) == {(torch.bfloat16, CUDA)}
    # autocast computes the loss in fp32
    assert result['loss'].device == CUDA
    assert result['loss'].dtype == torch.float32


# The optimizer step depends on the config's optimizer recipe, not on the
# family: HRFormer S / B and HRViT train with T's (AdamW, no decay on the
# relative position bias tables, one parameter group per parameter),
# HRPVT with HRNet's (Adam).  Given the gradients backward would leave,
# it fails only where the parameters are on mixed devices, which every
# family's test above rules out.
@pytest.mark.parametrize('family', ['hrformer_t', 'hrnet_w18'])
@pytest.mark.slow
def test_optimizer_step_on_cuda(family, fake_cuda):
    result = stepped(family, fake_cuda)
    model, optimizer = result['model'], result['optim_wrapper'].optimizer
    # one state per trainable parameter; torch keeps a non-capturable
    # optimizer's step count on the host
    assert len(optimizer.state) == sum(p.requires_grad
                                       for p in model.parameters())
    states = [s for p in optimizer.state.values() for s in p.items()]
    assert {(k, v.device, v.dtype) for k, v in states} == {
        ('step', torch.device('cpu'), torch.float32),
        ('exp_avg', CUDA, torch.float32),
        ('exp_avg_sq', CUDA, torch.float32)}


@pytest.mark.parametrize('family', list(FAMILIES))
@pytest.mark.slow
def test_inference_on_cuda_in_bf16(family, fake_cuda):
    result = trained(family, fake_cuda)
    cfg, model = result['cfg'], result['model']
    codec = cfg.codec
    w, h = codec['input_size']
    k = cfg.model.head.out_channels
    model.eval()
    with fake_cuda, torch.no_grad(), torch.autocast('cuda',
                                                    dtype=torch.bfloat16):
        data = model.data_preprocessor(batch(cfg, fake_cuda), False)
        out = model(data['inputs'], data['data_samples'], mode='tensor')
    model.train()
    if 'heatmap_size' in codec:
        hw, hh = codec['heatmap_size']
        outs, shapes = [out], [(BATCH, k, hh, hw)]
    else:
        r = codec['simcc_split_ratio']
        outs, shapes = list(out), [(BATCH, k, int(w * r)),
                                   (BATCH, k, int(h * r))]
    for o, shape in zip(outs, shapes):
        assert (o.device, o.dtype, tuple(o.shape)) == (CUDA, torch.bfloat16,
                                                      shape)


@pytest.mark.slow
def test_checkpoint_saved_and_resumed_on_cuda(fake_cuda, tmp_path,
                                              monkeypatch):
    """What Runner.save_checkpoint writes after a step on the GPU and what
    Runner.resume does with it there (map_location='cuda'), values
    aside."""
    from mmengine.logging import MessageHub
    result = stepped('hrformer_t', fake_cuda)
    cfg, model = result['cfg'], result['model']
    optim_wrapper = result['optim_wrapper']
    path = str(tmp_path / 'iter_1.pth')
    to_cpu = functools.partial(apply_to, expr=lambda x: hasattr(x, 'cpu'),
                               apply_func=lambda x: x.cpu())
    with fake_cuda:
        checkpoint = dict(
            meta=dict(epoch=0, iter=1),
            state_dict=weights_to_cpu(model.state_dict()),
            message_hub=to_cpu(MessageHub.get_current_instance()
                               .state_dict()),
            optimizer=to_cpu(optim_wrapper.state_dict()))
        RNGStateHook().before_save_checkpoint(None, checkpoint)
        with torch.serialization.skip_data(materialize_fake_tensors=True):
            save_checkpoint(checkpoint, path)
        # Runner.resume: get_device() is 'cuda'
        loaded = _load_checkpoint(path, map_location='cuda')

    weights = loaded['state_dict']
    assert weights.keys() == model.state_dict().keys()
    assert {v.device for v in weights.values()} == {CUDA}
    assert loaded['optimizer'].keys() == checkpoint['optimizer'].keys()
    rng = loaded['rng_states'][0]
    assert rng['torch'].device == CUDA

    # the generators' own check (device and dtype); the bytes are not there
    # to take
    applied = []

    def set_rng_state(state):
        if state.device.type != 'cpu' or state.dtype != torch.uint8:
            raise TypeError('RNG state must be a torch.ByteTensor')
        applied.append(state)

    monkeypatch.setattr(torch, 'set_rng_state', set_rng_state)
    monkeypatch.setattr(torch.cuda, 'set_rng_state', set_rng_state)
    fresh_wrapper = bf16_optim_wrapper(cfg, model)
    with fake_cuda:
        RNGStateHook().after_load_checkpoint(None, loaded)
        _load_checkpoint_to_model(model, loaded, strict=True)
        fresh_wrapper.load_state_dict(loaded['optimizer'])
    assert [(s.device.type, s.dtype) for s in applied] == [
        ('cpu', torch.uint8)]
    assert {p.device for p in model.parameters()} == {CUDA}
    assert {b.device for b in model.buffers()} == {CUDA}
    for state in fresh_wrapper.optimizer.state.values():
        assert state['step'].device.type == 'cpu'
        assert state['exp_avg'].device == state['exp_avg_sq'].device == CUDA
