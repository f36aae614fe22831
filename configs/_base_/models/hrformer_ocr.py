# HRFormer + OCR (HRFormer paper, Sec. 4.3) exactly as the reference
# segmentation release computes it (seg/lib/models/nets/hrt.py): the
# backbone of hrformer_seg.py; all four streams resized to 1/4 (bilinear,
# align_corners=True) and concatenated; an auxiliary FCN head (3x3 conv to
# 512) gives the soft object regions; the OCR head (3x3 conv to 512
# channels, object context with 256 key channels, dropout 0.05) predicts,
# trained with OHEM cross-entropy.  mmengine replaces lists on inheritance,
# so each config adds the heads for its arch and classes:
# decode_head=hrformer_mm.config_helpers.ocr_heads(arch, num_classes).
_base_ = ['./hrformer_seg.py']
model = dict(type='CascadeEncoderDecoder', num_stages=2)
