# The HRViT demo: HRViT-b1 + SegFormer all-MLP head trained from scratch on
# the built-in ADE20K-format scenes, with exactly the HRFormer-T + OCR
# demo's data, crops (96x96), batch, learning rate and 150-iteration
# schedule (`bash tools/demo.sh --family hrvit`).  BN instead of SyncBN,
# no drop path, a 128-channel head.
_base_ = ['./hrformer_demo_ade20k.py']
from hrformer_mm.config_helpers import segformer_mlp_head

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    _delete_=True,
    type='EncoderDecoder',
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=dict(
        type='hrformer_mm.HRViT',
        arch='b1',
        drop_path_rate=0.0,
        norm_cfg=norm_cfg),
    decode_head=segformer_mlp_head(norm_cfg, channels=128,
                                   num_classes=_base_.num_classes),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
