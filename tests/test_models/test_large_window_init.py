"""The large-window segmentation configs start from the 7x7-window ImageNet
checkpoint as the reference segmentation release does: each relative
position bias table, a (2*7-1)^2 x heads grid, is interpolated bilinearly
(align_corners False) to the model's (2w-1)^2 grid; every other tensor is
loaded as it is.

The checkpoint is HRFormer-B's in the reference ImageNet release's scheme
(split q/k/v, ``mlp``, index buffers, classifier; tensors under ``model``)
with seeded random values.  The expected tables are interpolated here by
hand, from the definition of bilinear sampling with align_corners False
(the source coordinate of output pixel i is (i + 0.5) * in / out - 0.5,
clamped at 0).
"""
import math

import pytest
import torch
from mmengine.config import Config

from hrformer_mm.engine.launch import build_model_from_config
from hrformer_mm.models.backbones import HRFormer

from e2e_utils import ROOT

CONFIGS = {
    'hrformer_b_ocr_w13_ade20k.py': 13,
    'hrformer_b_ocr_w15_cityscapes.py': 15,
    'hrformer_b_ocr_w15_pascal_context.py': 15,
    'hrformer_b_ocr_w15_cocostuff.py': 15,
}
TABLE = 'relative_position_bias_table'


def _bilinear_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """(n_out, n_in) weights of 1-D linear sampling, align_corners False."""
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    for i in range(n_out):
        x = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
        x0 = min(int(math.floor(x)), n_in - 1)
        x1 = min(x0 + 1, n_in - 1)
        frac = x - x0
        m[i, x0] += 1 - frac
        m[i, x1] += frac
    return m


def expected_table(table: torch.Tensor, grid: int) -> torch.Tensor:
    """Each head's column as a square image (row-major), resized."""
    length, heads = table.shape
    src = int(round(length**0.5))
    w = _bilinear_matrix(src, grid)
    images = table.double().t().reshape(heads, src, src)
    out = torch.einsum('ij,hjk,lk->hil', w, images, w)
    return out.reshape(heads, grid * grid).t().float()


@pytest.fixture(scope='module')
def imagenet_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    # bias tables at the scale of trained ones (their init is std 0.02):
    # float32 rounding of the interpolation stays far below 1e-6
    ours = {k: torch.randn_like(v) * (0.02 if k.endswith(TABLE) else 1)
            if v.is_floating_point() else v
            for k, v in HRFormer('base').state_dict().items()}
    ref = {}
    for k, v in ours.items():
        if '.attn.attn.qkv.' in k:
            head, kind = k.split('.attn.attn.qkv.')
            for name, part in zip('qkv', v.chunk(3)):
                ref[f'{head}.attn.attn.{name}_proj.{kind}'] = part.clone()
            continue
        k = k.replace('.attn.attn.proj.', '.attn.attn.out_proj.')
        ref[k.replace('.ffn.', '.mlp.')] = v
        if k.endswith(TABLE):
            ref[k.replace('bias_table', 'index')] = torch.zeros(
                49, 49, dtype=torch.long)
    ref['classifier.weight'] = torch.randn(1000, 2048)
    ref['incre_modules.0.0.conv1.weight'] = torch.randn(64, 78, 1, 1)
    path = tmp_path_factory.mktemp('imagenet') / 'hrt_base.pth'
    torch.save(dict(model=ref), path)
    return path, ours


@pytest.mark.parametrize('config', sorted(CONFIGS))
@pytest.mark.slow
def test_large_window_config_resizes_the_7x7_bias_tables(
        config, imagenet_checkpoint):
    path, ours = imagenet_checkpoint
    window = CONFIGS[config]
    cfg = Config.fromfile(f'{ROOT}/configs/seg/{config}')
    assert cfg.model.backbone.window_sizes == window
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    cfg.model.backbone.init_cfg.checkpoint = str(path)
    _, model = build_model_from_config(cfg, pretrained=True)
    model.backbone.init_weights()
    got = model.backbone.state_dict()
    assert got.keys() == ours.keys()
    tables = [k for k in got if k.endswith(TABLE)]
    assert len(tables) == 44
    grid = 2 * window - 1
    for k in tables:
        assert ours[k].shape[0] == 13 * 13
        assert got[k].shape == (grid * grid, ours[k].shape[1])
        diff = (got[k] - expected_table(ours[k], grid)).abs().max()
        assert diff < 1e-6, (k, diff.item())
    for k in got:
        if not k.endswith(TABLE):
            assert torch.equal(got[k], ours[k]), k
