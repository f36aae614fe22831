"""Functions that config files call to spell out list-valued settings.

mmengine replaces (rather than merges) lists on config inheritance, and
mmseg's ``CascadeEncoderDecoder`` takes its heads as a list, so a config that
changes the backbone width or the number of classes would otherwise repeat
the whole head definition.  Configs import these; the results are plain
dicts in the dumped config.
"""
from typing import List, Optional, Sequence


def ocr_heads(in_channels: Sequence[int],
              num_classes: int,
              norm_cfg: dict,
              channels: int = 512,
              ocr_channels: int = 256,
              aux_channels: Optional[int] = 512,
              aux_kernel_size: int = 3,
              ohem_min_kept: Optional[int] = 131072,
              aux_weight: float = 0.4,
              dropout_ratio: float = 0.05,
              align_corners: bool = True) -> List[dict]:
    """HRFormer + OCR as the reference segmentation release builds it
    (``seg/lib/models/nets/hrt.py``, ``HRT_{SMALL,BASE}_OCR_V2``): every
    stream resized to 1/4 (bilinear, align_corners=True) and concatenated;
    an auxiliary FCN (3x3 conv to ``aux_channels`` + BN + ReLU, 1x1
    classifier, loss weight 0.4) gives the soft object regions; the OCR head
    (3x3 conv to ``channels``, object context with ``ocr_channels`` keys,
    dropout 0.05 before the classifier) makes the prediction, trained with
    OHEM cross-entropy (plain cross-entropy with ``ohem_min_kept=None``).

    The reference's 3x3 convs carry a bias in front of BatchNorm; mmseg's
    ``ConvModule`` has none, and the checkpoint converter folds those biases
    into the BatchNorm running means, which is exact.  ``aux_channels=None``
    with ``aux_kernel_size=1`` gives mmseg's HRNet-OCR auxiliary head (a 1x1
    conv keeping the concatenated width) instead."""
    in_channels = list(in_channels)
    common = dict(in_channels=in_channels, in_index=(0, 1, 2, 3),
                  input_transform='resize_concat', num_classes=num_classes,
                  norm_cfg=norm_cfg, align_corners=align_corners)
    return [
        dict(type='FCNHead',
             channels=sum(in_channels) if aux_channels is None else
             aux_channels,
             kernel_size=aux_kernel_size, num_convs=1, concat_input=False,
             dropout_ratio=-1,
             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                              loss_weight=aux_weight),
             **common),
        dict(type='OCRHead', channels=channels, ocr_channels=ocr_channels,
             dropout_ratio=dropout_ratio,
             sampler=None if ohem_min_kept is None else dict(
                 type='OHEMPixelSampler', thresh=0.9, min_kept=ohem_min_kept),
             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                              loss_weight=1.0),
             **common),
    ]
