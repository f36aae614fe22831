"""FlipSwapSegTTAModel: the flipped view's left / right part scores are
exchanged before the views are averaged, as the HRNet segmentation
release's LIP flip test does."""
import torch
from mmengine.model import BaseModel
from mmengine.structures import PixelData
from mmseg.models.segmentors.seg_tta import SegTTAModel
from mmseg.structures import SegDataSample

import hrformer_mm  # noqa: F401
from hrformer_mm.models.segmentors import FlipSwapSegTTAModel

PAIRS = [(14, 15), (16, 17), (18, 19)]


class _Segmentor(BaseModel):
    """What merge_preds reads of the wrapped segmentor: its class count."""
    out_channels = 20

    def forward(self, *args, **kwargs):
        raise NotImplementedError


def _sample(logits, flip):
    s = SegDataSample(metainfo=dict(flip=flip, flip_direction='horizontal',
                                    img_path='x.jpg'))
    s.seg_logits = PixelData(data=logits.clone())
    return s


def test_flipped_view_has_paired_channels_exchanged():
    tta = FlipSwapSegTTAModel(module=_Segmentor(), flip_pairs=PAIRS)
    logits = torch.arange(20.).view(20, 1, 1).expand(20, 2, 3)
    flipped, plain = tta.swap_flipped(
        [_sample(logits, True), _sample(logits, False)])
    got = flipped.seg_logits.data[:, 0, 0].tolist()
    assert got[14:] == [15., 14., 17., 16., 19., 18.]
    assert got[:14] == list(range(14))
    assert torch.equal(plain.seg_logits.data, logits)


def test_a_mirror_consistent_model_keeps_the_side_after_the_flip_test():
    """The plain view scores the pixel Left-arm; the mirrored view, seen as
    a mirrored picture, scores it Right-arm more confidently (its left arm
    looks like a right one).  Exchanging the pair gives Left-arm; mmseg's
    own average picks Right-arm."""
    plain = torch.zeros(20, 1, 1)
    plain[14], plain[15] = 3., 1.
    mirrored = torch.zeros(20, 1, 1)
    mirrored[15], mirrored[14] = 6., 0.
    views = [[_sample(plain, False), _sample(mirrored, True)]]
    ours = FlipSwapSegTTAModel(module=_Segmentor(), flip_pairs=PAIRS)
    assert ours.merge_preds(views)[0].pred_sem_seg.data.item() == 14
    views = [[_sample(plain, False), _sample(mirrored, True)]]
    host = SegTTAModel(module=_Segmentor())
    assert host.merge_preds(views)[0].pred_sem_seg.data.item() == 15


def test_builds_from_the_lip_config_in_mmseg_scope():
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    cfg = Config.fromfile('configs/_base_/datasets/lip_473x473.py')
    # scoped to this build: later tests find the default scope unchanged
    def scope():
        current = DefaultScope.get_current_instance()
        return current and current.scope_name

    before = scope()
    with DefaultScope.overwrite_default_scope('mmseg'):
        tta = MODELS.build(dict(cfg.tta_model, module=_Segmentor()))
    assert scope() == before
    assert isinstance(tta, FlipSwapSegTTAModel)
    assert tta.flip_pairs == PAIRS
