"""HRPVT: mmpose's PVT v2 + the HRPM neck + SimCC (or heatmaps).

Every config builds and runs forward and backward at a reduced size (tiny
PVT widths, inputs one a multiple of 32 and one not); both HRPM insertions
train one step; SimCC round-trips coordinates within its bin; the b2 model
is measured against HRNet-W48."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.models.necks import HighResolutionPyramidModule, HRPMNeck

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = ['hrpvt_b2_simcc_coco.py', 'hrpvt_b2_simcc_coco_384x288.py',
           'hrpvt_b2_heatmap_coco.py', 'hrpvt_demo_simcc_coco.py',
           'hrpvt_demo_heatmap_coco.py']
# (h, w): one multiple of 32, one not
SIZES = [(64, 32), (72, 44)]
TINY_WIDTHS = [16, 32, 80, 128]  # embed_dims 16 x heads [1, 2, 5, 8]


def _quarter(h, w):
    """PVT v2's first stage: 7x7 stride-4 patch embedding, padding 3."""
    return (h + 3) // 4, (w + 3) // 4


def _params_m(m):
    return sum(p.numel() for p in m.parameters()) / 1e6


def tiny_config(name, h, w, insertion=None):
    """The config at PVT widths 16..128, one layer a stage, neck C=32, its
    codec, pipelines' sizes and SimCC head resized to ``h x w``."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'pose', name))
    m = cfg.model
    m.backbone.update(embed_dims=16, num_layers=[1, 1, 1, 1])
    m.neck.update(in_channels=TINY_WIDTHS, out_channels=32)
    if insertion is not None:
        m.neck.insertion = insertion
    m.head.in_channels = 32
    m.head.decoder.input_size = (w, h)
    if m.head.type == 'SimCCHead':
        m.head.input_size = (w, h)
        m.head.in_featuremap_size = _quarter(h, w)[::-1]
    else:
        m.head.decoder.heatmap_size = _quarter(h, w)[::-1]
    return cfg


def build_tiny(name, h, w, insertion=None):
    return build_model_from_config(tiny_config(name, h, w, insertion))


def batch(model, h, w, n=2, seed=0):
    """Inputs and data samples with targets encoded by the head's codec."""
    from mmpose.structures import PoseDataSample
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n):
        kpts = rng.uniform([2, 2], [w - 3, h - 3], size=(1, 17, 2))
        enc = model.head.decoder.encode(kpts, np.ones((1, 17)))
        s = PoseDataSample()
        labels = InstanceData()
        for k in ('keypoint_x_labels', 'keypoint_y_labels',
                  'keypoint_weights'):
            if k in enc:
                labels.set_field(torch.as_tensor(enc[k]).float(), k)
        s.gt_instance_labels = labels
        if 'heatmaps' in enc:
            from mmengine.structures import PixelData
            s.gt_fields = PixelData(
                heatmaps=torch.as_tensor(enc['heatmaps']).float())
        samples.append(s)
    return torch.randn(n, 3, h, w), samples


@pytest.mark.parametrize('name', CONFIGS)
def test_config_runs_forward_and_backward_at_a_reduced_size(name):
    for h, w in SIZES:
        cfg, model = build_tiny(name, h, w)
        model.train()
        out = model(torch.randn(2, 3, h, w), None, mode='tensor')
        if cfg.model.head.type == 'SimCCHead':
            x, y = out
            # 1-D classifications at simcc_split_ratio 2.0: 2W and 2H bins
            assert tuple(x.shape) == (2, 17, 2 * w)
            assert tuple(y.shape) == (2, 17, 2 * h)
            loss = x.square().mean() + y.square().mean()
        else:
            assert tuple(out.shape) == (2, 17, *_quarter(h, w))
            loss = out.square().mean()
        loss.backward()
        stem = model.backbone.layers[0][0].projection.weight
        assert stem.grad is not None and stem.grad.abs().sum() > 0


@pytest.mark.parametrize('name', CONFIGS)
def test_config_is_pvt_v2_hrpm_and_the_head_it_names(name):
    cfg, model = build_model_from_config(
        osp.join(ROOT, 'configs', 'pose', name))
    assert type(model.backbone).__name__ == 'PyramidVisionTransformerV2'
    assert isinstance(model.neck, HRPMNeck)
    assert model.neck.insertion == 'stage'
    head = 'HeatmapHead' if 'heatmap' in name else 'SimCCHead'
    assert type(model.head).__name__ == head
    # no deconvolution head (docs/hrpvt.md): the 1/4 map feeds the head directly
    assert not any(isinstance(m, torch.nn.ConvTranspose2d)
                   for m in model.head.modules())


@pytest.mark.parametrize('name', CONFIGS)
def test_pipelines_encode_with_the_heads_codec(name):
    """The training targets and the head's decoder are the same codec, and
    every transform's codec builds (no merge-only keys such as _delete_)."""
    from mmpose.registry import KEYPOINT_CODECS
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'pose', name))
    enc, = [t.encoder for t in cfg.train_dataloader.dataset.pipeline
            if t.type == 'GenerateTarget']
    # without mmengine's marker of a dict read through 'mmpose::'
    enc, dec, codec = ({k: v for k, v in c.items() if k != '_scope_'}
                       for c in (enc, cfg.model.head.decoder, cfg.codec))
    assert enc == dec == codec
    KEYPOINT_CODECS.build(enc)
    sizes = {tuple(t.input_size) for p in (
        cfg.train_dataloader.dataset.pipeline,
        cfg.val_dataloader.dataset.pipeline) for t in p
        if t.type == 'TopdownAffine'}
    assert sizes == {tuple(cfg.codec.input_size)}
    if cfg.model.head.type == 'SimCCHead':
        assert tuple(cfg.model.head.input_size) == tuple(enc['input_size'])


def test_b2_backbone_is_pvt_v2_b2():
    """PVT v2-b2 (Wang et al. 2022): 25.4M with its 1000-way classifier,
    i.e. 24.85M without it (512 x 1000 + 1000 = 0.51M)."""
    cfg, model = build_model_from_config(
        osp.join(ROOT, 'configs', 'pose', 'hrpvt_b2_simcc_coco.py'))
    b = cfg.model.backbone
    assert b.embed_dims == 64 and b.num_layers == [3, 4, 6, 3]
    assert round(_params_m(model.backbone), 2) == 24.85
    pretrained = Config.fromfile(osp.join(
        ROOT, 'configs', 'pose', 'hrpvt_b2_simcc_coco.py')).model.backbone
    assert pretrained.init_cfg.checkpoint.endswith('pvt_v2_b2.pth')


def test_b2_simcc_has_56_percent_fewer_parameters_than_hrnet_w48():
    """HRNet-W48 63.60M; HRPVT-b2 SimCC 27.81M (backbone 24.85, HRPM neck
    0.20, SimCC head 2.76): 56.3% fewer, the paper says 60%."""
    _, hrpvt = build_model_from_config(
        osp.join(ROOT, 'configs', 'pose', 'hrpvt_b2_simcc_coco.py'))
    _, hrnet = build_model_from_config(
        osp.join(ROOT, 'configs', 'pose', 'hrnet_w48_coco.py'))
    p, q = _params_m(hrpvt), _params_m(hrnet)
    reduction = 1 - p / q
    print(f'HRPVT-b2 SimCC {p:.2f}M, HRNet-W48 {q:.2f}M, '
          f'{100 * reduction:.1f}% fewer')
    assert round(p, 2) == 27.81 and round(q, 2) == 63.60
    assert abs(reduction - 0.60) < 0.10


@pytest.mark.parametrize('insertion,units,branches', [
    ('stage', 1, [4]),
    ('layer', 4, [1, 1, 1, 1]),
])
def test_insertion_builds_its_pyramid_and_trains_one_step(
        insertion, units, branches):
    h, w = 72, 44
    _, model = build_tiny('hrpvt_demo_simcc_coco.py', h, w, insertion)
    hrpm = model.neck.hrpm
    assert len(hrpm) == units
    assert [len(u.branches) for u in hrpm] == branches
    assert [d for u in hrpm for d in u.dilations] == [1, 2, 4, 8]
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = copy.deepcopy(model.neck.hrpm[0].fuse.conv.weight.detach())
    inputs, samples = batch(model, h, w)
    losses = model.loss(inputs, samples)
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    opt.step()
    assert not torch.equal(before, model.neck.hrpm[0].fuse.conv.weight)


def test_layer_insertion_costs_three_more_fuse_convs_than_stage():
    """Same branches; 'layer' fuses each alone (C -> C, 4 of them) where
    'stage' fuses them together (4C -> C): equal 1x1 weights, 3 more BNs."""
    stage = HRPMNeck(TINY_WIDTHS, 32, insertion='stage')
    layer = HRPMNeck(TINY_WIDTHS, 32, insertion='layer')
    assert _params_m(layer) * 1e6 - _params_m(stage) * 1e6 == 3 * 2 * 32


def test_hrpm_is_residual_and_keeps_the_map_size():
    m = HighResolutionPyramidModule(8, (1, 2, 4, 8)).eval()
    torch.nn.init.zeros_(m.fuse.bn.weight)  # the pyramid adds nothing
    x = torch.randn(1, 8, 18, 11).relu()
    assert torch.allclose(m(x), x)


def test_unknown_insertion_is_refused():
    with pytest.raises(ValueError, match="insertion must be one of"):
        HRPMNeck(TINY_WIDTHS, 32, insertion='block')


@pytest.mark.parametrize('input_size', [(192, 256), (44, 72)])
def test_simcc_round_trips_coordinates_within_a_bin(input_size):
    """mmpose's SimCCLabel, split ratio 2.0: bins of 0.5 input pixels."""
    from mmpose.codecs import SimCCLabel
    codec = SimCCLabel(input_size=input_size, sigma=6.0,
                       simcc_split_ratio=2.0)
    w, h = input_size
    kpts = np.array([[[0.0, 0.0], [10.3, 20.7], [w / 2, h / 3],
                      [w - 1.25, h - 1.0]]])
    enc = codec.encode(kpts, np.ones((1, 4)))
    assert enc['keypoint_x_labels'].shape == (1, 4, 2 * w)
    assert enc['keypoint_y_labels'].shape == (1, 4, 2 * h)
    dec, scores = codec.decode(enc['keypoint_x_labels'],
                               enc['keypoint_y_labels'])
    assert np.abs(dec - kpts).max() <= 0.5
    # the label is a Gaussian normalised to peak 1 / (sqrt(2 pi) sigma)
    assert np.allclose(scores, 1 / (np.sqrt(2 * np.pi) * 6.0))


def test_complexity_counts_torch_multihead_attention():
    """PVT v2's attention runs nn.MultiheadAttention, whose projections are
    no nn.Linear calls: 4 projections on Nq=4, Nk=2, C=8 are
    (2*4 + 2*2) * 8 * 8 = 768 MACs; the products 2 * 4 * 2 * 8 = 128."""
    from hrformer_mm.analysis import count_complexity
    attn = torch.nn.MultiheadAttention(8, 2)
    q, k = torch.randn(4, 1, 8), torch.randn(2, 1, 8)
    r = count_complexity(attn, lambda: attn(query=q, key=k, value=k))
    assert r.paper_macs == 768 and r.complete_macs == 768 + 128


def test_b2_gflops_against_hrnet_w48():
    """tools/analysis/complexity.py: HRPVT-b2 SimCC 4.48 GFLOPs (paper
    convention) at 256x192 against HRNet-W48's 15.69, 71% fewer (paper:
    62%, from 14.6)."""
    from hrformer_mm.analysis import config_complexity
    r = config_complexity(osp.join(ROOT, 'configs/pose/'
                                   'hrpvt_b2_simcc_coco.py'))
    assert r['gflops_paper'] == pytest.approx(4.48, abs=0.01)
    assert r['gflops_complete'] == pytest.approx(4.61, abs=0.01)
    assert abs((1 - r['gflops_paper'] / 15.69) - 0.62) < 0.10


def test_demo_configs_differ_only_in_the_head():
    """The SimCC vs heatmap comparison of the demo is on equal terms: the
    same model apart from the head, data (the small-people set), pipeline
    apart from the target encoding, and budget."""
    simcc, heatmap = (Config.fromfile(osp.join(
        ROOT, 'configs', 'pose', f'hrpvt_demo_{h}_coco.py'))
        for h in ('simcc', 'heatmap'))
    for key in ('backbone', 'neck', 'data_preprocessor'):
        assert simcc.model[key] == heatmap.model[key], key
    for key in ('train_cfg', 'optim_wrapper', 'param_scheduler',
                'val_dataloader', 'val_evaluator'):
        assert simcc[key] == heatmap[key], key
    a, b = simcc.train_dataloader, heatmap.train_dataloader
    assert a.batch_size == b.batch_size
    assert a.dataset.data_root == b.dataset.data_root == \
        'data/demo/small/coco/'
    strip = [[t for t in d.dataset.pipeline if t.type != 'GenerateTarget']
             for d in (a, b)]
    assert strip[0] == strip[1]
    assert simcc.model.head.type == 'SimCCHead'
    assert heatmap.model.head.type == 'HeatmapHead'
