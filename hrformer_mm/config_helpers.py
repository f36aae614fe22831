"""Functions that config files call to spell out list-valued settings.

mmengine replaces (rather than merges) lists on config inheritance, and
mmseg's ``CascadeEncoderDecoder`` takes its heads as a list, so a config that
changes the backbone width or the number of classes would otherwise repeat
the whole head definition.  Configs import these; the results are plain
dicts in the dumped config.
"""
from typing import List, Optional, Sequence, Union


def ocr_heads(in_channels: Union[int, Sequence[int]],
              num_classes: int,
              norm_cfg: dict,
              channels: int = 512,
              ocr_channels: int = 256,
              ohem_min_kept: Optional[int] = 131072,
              aux_weight: float = 0.4) -> List[dict]:
    """HRFormer + OCR (HRFormer paper, Sec. 4.3): every stream upsampled to
    1/4 and concatenated; an auxiliary FCN (1x1 conv on the concatenation,
    loss weight 0.4) gives the soft object regions; the OCR head (3x3 conv to
    ``channels``, object context with ``ocr_channels`` keys) makes the
    prediction, trained with OHEM cross-entropy (plain cross-entropy with
    ``ohem_min_kept=None``).

    ``in_channels``: the streams' widths, which the heads concatenate
    themselves (mmseg's ``resize_concat``), or one width: the output of an
    ``HRNetV2Neck(mode='v2')`` that has already concatenated them."""
    if isinstance(in_channels, int):
        width = in_channels
        inputs = dict(in_channels=in_channels, in_index=0)
    else:
        width = sum(in_channels)
        inputs = dict(in_channels=list(in_channels), in_index=(0, 1, 2, 3),
                      input_transform='resize_concat')
    common = dict(dropout_ratio=-1, num_classes=num_classes,
                  norm_cfg=norm_cfg, align_corners=False, **inputs)
    return [
        dict(type='FCNHead', channels=width, kernel_size=1,
             num_convs=1, concat_input=False,
             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                              loss_weight=aux_weight),
             **common),
        dict(type='OCRHead', channels=channels, ocr_channels=ocr_channels,
             sampler=None if ohem_min_kept is None else dict(
                 type='OHEMPixelSampler', thresh=0.9, min_kept=ohem_min_kept),
             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                              loss_weight=1.0),
             **common),
    ]
