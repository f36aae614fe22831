"""Test-time flip for parsing labels with sides (LIP's left / right arm,
leg and shoe).

mmseg's ``SegTTAModel`` averages the softmax of every augmented view after
mirroring a flipped view's scores back; for a label set with sides the
mirrored view also scores the person's left arm as the right one, so the
HRNet segmentation release exchanges those channels before averaging
(``lib/datasets/lip.py``, ``inference``).  This model does the same and is
otherwise mmseg's: ``tta_model = dict(type='hrformer_mm.FlipSwapSegTTAModel',
flip_pairs=...)`` with a ``tta_pipeline`` holding a ``RandomFlip`` view, run
by mmseg's ``tools/test.py --tta``.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors.seg_tta import SegTTAModel
from mmseg.utils import SampleList

from hrformer_mm.datasets.parsing import swapped_order
from hrformer_mm.registry import MODELS


@MODELS.register_module()
class FlipSwapSegTTAModel(SegTTAModel):
    """``SegTTAModel`` whose horizontally flipped views have the score
    channels of each pair in ``flip_pairs`` exchanged before the views are
    averaged."""

    def __init__(self, module: Union[dict, torch.nn.Module],
                 flip_pairs: Sequence[Tuple[int, int]],
                 data_preprocessor: Optional[dict] = None):
        super().__init__(module=module, data_preprocessor=data_preprocessor)
        self.flip_pairs = [tuple(p) for p in flip_pairs]

    def swap_flipped(self, data_samples: SampleList) -> SampleList:
        """Exchange the paired channels of every horizontally flipped
        sample's ``seg_logits`` (in place; returns ``data_samples``)."""
        for sample in data_samples:
            if not sample.metainfo.get('flip') or sample.metainfo.get(
                    'flip_direction', 'horizontal') != 'horizontal':
                continue
            logits = sample.seg_logits.data
            order = torch.as_tensor(
                swapped_order(logits.shape[0], self.flip_pairs),
                device=logits.device)
            sample.seg_logits = PixelData(data=logits[order])
        return data_samples

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        return super().merge_preds(
            [self.swap_flipped(samples) for samples in data_samples_list])
