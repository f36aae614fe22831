"""Human parsing end to end on the built-in LIP-format people: the parsing
demo's model (HRNetV2-W18-Small + FCN head) trained a few iterations by
tools/train.py with mmseg's LIPDataset and the left / right label exchange
on flips, evaluated by tools/test.py, whose mIoU is recomputed here from
the dumped predictions and the PNGs; then the LIP flip test
(FlipSwapSegTTAModel over mmseg's TestTimeAug) on the trained weights."""
import json
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from e2e_utils import PYTHON, ROOT, run, seg_micro_schedule

NUM_CLASSES = 20


@pytest.fixture(scope='module')
def lip_root(tmp_path_factory):
    from hrformer_mm.datasets.synthetic import generate_lip
    root = tmp_path_factory.mktemp('lip')
    generate_lip(str(root), num_train=4, num_val=2, seed=1)
    return str(root)


def _config(tmp_path, lip_root, iters=3):
    path = osp.join(str(tmp_path), 'parsing_micro.py')
    with open(path, 'w') as f:
        f.write(f"""
_base_ = ['{ROOT}/configs/seg/hrnetv2_demo_lip.py']
data_root = '{lip_root}'
{seg_micro_schedule(iters)}""")
    return path


def lip_miou(preds, ignore_index=255):
    """mIoU (percent) as mmseg's IoUMetric computes it on LIP: the PNG
    values are the labels (no reduce_zero_label), intersections and unions
    summed over the images, mean over the classes with a non-empty union."""
    inter = np.zeros(NUM_CLASSES)
    union = np.zeros(NUM_CLASSES)
    for p in preds:
        gt = np.asarray(Image.open(p['seg_map_path'])).astype(np.int64)
        pred = np.asarray(p['pred_sem_seg']['data']).squeeze(0)
        assert pred.shape == gt.shape
        keep = gt != ignore_index
        g, q = gt[keep], pred[keep]
        area_i = np.bincount(g[g == q], minlength=NUM_CLASSES)
        inter += area_i
        union += (np.bincount(g, minlength=NUM_CLASSES) +
                  np.bincount(q, minlength=NUM_CLASSES) - area_i)
    present = union > 0
    return 100.0 * float(np.mean(inter[present] / union[present]))


@pytest.fixture(scope='module')
def parsing_run(tmp_path_factory, lip_root):
    tmp = tmp_path_factory.mktemp('parsing')
    cfg = _config(tmp, lip_root)
    run([PYTHON, 'tools/train.py', cfg, '--work-dir', str(tmp / 'w')])
    return tmp, cfg


def test_parsing_trains_and_evaluates_lip_miou(parsing_run, lip_root):
    tmp, cfg = parsing_run
    ckpt = tmp / 'w' / 'iter_3.pth'
    assert ckpt.is_file()
    run([PYTHON, 'tools/test.py', cfg, str(ckpt), '--work-dir',
         str(tmp / 't'), '--out', str(tmp / 't' / 'preds.pkl')])
    metrics = json.loads((tmp / 't' / 'metrics.json').read_text())
    with open(tmp / 't' / 'preds.pkl', 'rb') as f:
        preds = pickle.load(f)
    assert sorted(osp.basename(p['seg_map_path']) for p in preds) == [
        '000001.png', '000002.png']
    # predictions come back at the label's size (128x96), not the 96x96
    # the model saw
    assert np.asarray(preds[0]['pred_sem_seg']['data']).shape == (1, 128,
                                                                   96)
    assert metrics['mIoU'] == pytest.approx(lip_miou(preds), abs=0.005 +
                                            1e-9)
    perfect = [dict(p, pred_sem_seg=dict(data=torch.from_numpy(np.asarray(
        Image.open(p['seg_map_path'])).astype(np.int64))[None]))
        for p in preds]
    assert lip_miou(perfect) == pytest.approx(100.0)


def test_flip_test_averages_the_views_with_sides_exchanged(parsing_run,
                                                           lip_root):
    """The LIP config's tta_model over its TestTimeAug views (plain,
    mirrored) predicts argmax(softmax(plain) + softmax(mirrored with the
    left / right channels exchanged)), computed here view by view."""
    from mmengine.config import Config
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmseg.registry import MODELS

    import hrformer_mm  # noqa: F401
    tmp, cfg_path = parsing_run
    cfg = Config.fromfile(cfg_path)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, str(tmp / 'w' / 'iter_3.pth'), map_location='cpu')
    model.eval()
    tta = MODELS.build(dict(cfg.tta_model, module=model))
    sample = Compose(cfg.tta_pipeline)(dict(
        img_path=osp.join(lip_root, 'val_images', '000001.jpg'),
        seg_map_path=osp.join(lip_root, 'val_segmentations', '000001.png'),
        reduce_zero_label=False, seg_fields=[]))
    batch = pseudo_collate([sample])
    with torch.no_grad():
        merged = tta.test_step(batch)[0].pred_sem_seg.data
        views = [model.test_step(dict(inputs=[x], data_samples=[s]))[0]
                 for x, s in zip(sample['inputs'], sample['data_samples'])]
    assert [v.metainfo['flip'] for v in views] == [False, True]
    plain, mirrored = (v.seg_logits.data for v in views)
    # LIP's left / right pairs: arms 14-15, legs 16-17, shoes 18-19
    order = torch.as_tensor(list(range(14)) + [15, 14, 17, 16, 19, 18])
    expected = (plain.softmax(0) + mirrored[order].softmax(0)).argmax(0)
    assert merged.shape == (1, 128, 96)
    assert torch.equal(merged[0], expected)
