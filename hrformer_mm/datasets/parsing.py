"""Horizontal flips of human parsing data, whose labels have sides.

A parsing label such as LIP's Left-arm names the person's own side, so a
mirrored picture shows the left arm where the right one was and must carry
the other label.  mmseg's ``RandomFlip`` mirrors the label map without
exchanging the labels, and its test-time flip averages the mirrored
prediction as it is; the HRNet segmentation release swaps the pairs in both
places (``lib/datasets/lip.py``).  :class:`SwapFlippedPartLabels` does it
after ``RandomFlip`` in a training pipeline; the test-time half is
:class:`hrformer_mm.models.segmentors.FlipSwapSegTTAModel`.
"""
from typing import Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from hrformer_mm.registry import TRANSFORMS

__all__ = ['swapped_order', 'SwapFlippedPartLabels']


def swapped_order(num_classes: int,
                  flip_pairs: Sequence[Tuple[int, int]]) -> np.ndarray:
    """The class order of a mirrored prediction: ``order[c]`` is the class
    whose score a mirrored picture gives to class ``c`` (``c`` itself
    unless it is in a pair)."""
    order = np.arange(num_classes)
    for a, b in flip_pairs:
        if not (0 <= a < num_classes and 0 <= b < num_classes) or a == b:
            raise ValueError(f'flip pair {(a, b)} is not two distinct '
                             f'classes of {num_classes}')
        order[a], order[b] = b, a
    if len(set(order.tolist())) != num_classes:
        raise ValueError(f'flip pairs {flip_pairs} share a class')
    return order


@TRANSFORMS.register_module()
class SwapFlippedPartLabels(BaseTransform):
    """After a horizontal ``RandomFlip``, exchange the labels of each pair
    in ``flip_pairs`` in every segmentation map of the sample (values
    outside the pairs, the ignore index included, stay).  Samples that were
    not flipped, or flipped vertically, pass unchanged.

    Required keys: ``flip``, ``flip_direction`` (``RandomFlip`` sets them),
    ``seg_fields``.  Modified keys: the maps named in ``seg_fields``.
    """

    def __init__(self, flip_pairs: Sequence[Tuple[int, int]]):
        self.flip_pairs = [tuple(p) for p in flip_pairs]
        if not self.flip_pairs or any(len(p) != 2 for p in self.flip_pairs):
            raise ValueError('flip_pairs needs one or more (left, right) '
                             f'label pairs, got {flip_pairs!r}')
        top = max(max(p) for p in self.flip_pairs)
        # a lookup table over all uint8 values, so 255 (ignored) maps to
        # itself
        self.lut = swapped_order(max(256, top + 1), self.flip_pairs)

    def transform(self, results: dict) -> dict:
        if results.get('flip') and \
                results.get('flip_direction', 'horizontal') == 'horizontal':
            for key in results.get('seg_fields', ['gt_seg_map']):
                seg = results[key]
                # a negative label would index the table from its end
                if seg.size and (seg.min() < 0 or seg.max() >= len(self.lut)):
                    bad = seg.min() if seg.min() < 0 else seg.max()
                    raise ValueError(
                        f'{key} holds label {bad}, outside 0-'
                        f'{len(self.lut) - 1}, the labels a flip can swap')
                results[key] = self.lut[seg].astype(seg.dtype)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(flip_pairs={self.flip_pairs})'
