"""Convert an HRFormer, HRNet or HRViT checkpoint into hrformer_mm's key
scheme, offline.

    python tools/convert_checkpoint.py IN OUT [--src SRC] [--keep-rpe]
        [--config CONFIG]

Not needed to use such a checkpoint: the backbones read every format this
command reads when they load it (``load_from``, ``init_cfg=dict(type=
'Pretrained')``, ``tools/test.py CONFIG CKPT``), with the same code
(``hrformer_mm/models/backbones/*_weights.py``; docs/weights.md).  It
writes the result once, prints what was renamed, merged, folded, resized
and dropped, and with ``--config`` loads it into that config's model and
reports missing and unexpected keys (failing if the backbone misses any).
"""
import argparse
import os.path as osp
import runpy
import sys

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '_preamble.py'))

import torch  # noqa: E402

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)
from hrformer_mm.engine.checks import load_state_dict_from_file  # noqa: E402
from hrformer_mm.models.backbones.convert import (  # noqa: E402
    SOURCES, convert_checkpoint)


def build_model(config: str, with_rpe: bool):
    from mmengine.config import Config

    from hrformer_mm.engine.launch import build_model_from_config
    cfg = Config.fromfile(config)
    if cfg.model.backbone.type.endswith('HRFormer') and not with_rpe:
        cfg.model.backbone.with_rpe = False
    return build_model_from_config(cfg)[1]


def check_against_model(model, state: dict) -> int:
    """Load ``state`` into ``model`` and print the key mismatches; returns
    how many backbone keys are missing."""
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys
               if not k.endswith('num_batches_tracked')]
    print(f'missing keys: {len(missing)}')
    for k in missing[:20]:
        print(f'  {k}')
    print(f'unexpected keys: {len(result.unexpected_keys)}')
    for k in result.unexpected_keys[:20]:
        print(f'  {k}')
    return sum(k.startswith('backbone.') for k in missing)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src_ckpt', metavar='IN', help='checkpoint to convert')
    p.add_argument('dst_ckpt', metavar='OUT', help='where to write the result')
    p.add_argument('--src', default='auto', choices=list(SOURCES) + ['auto'],
                   help='official: the reference HRFormer release (pose, '
                   'segmentation or ImageNet models, told apart by their '
                   "heads); mmpose: mmpose's HRFormer; hrnet: mmpose's, "
                   "mmseg's, mmdet's or the reference ImageNet HRNet; hrvit: "
                   'the public HRViT code; auto (default): detected')
    p.add_argument('--keep-rpe', action='store_true',
                   help='keep the relative position bias tables of a '
                   'reference pose checkpoint (they were never trained)')
    p.add_argument('--config',
                   help="check the result against this config's model, "
                   'and resize bias tables to its window size')
    args = p.parse_args(argv)

    state = load_state_dict_from_file(args.src_ckpt)
    keep_rpe = True if args.keep_rpe else None
    new, report = convert_checkpoint(state, args.src, keep_rpe=keep_rpe)
    model = None
    if args.config:
        model = build_model(args.config, report.with_rpe)
        new, report = convert_checkpoint(state, args.src, keep_rpe=keep_rpe,
                                         backbone=model.backbone)
    print(report.summary())
    torch.save(dict(state_dict=new,
                    meta=dict(hrformer_mm=dict(source=report.source,
                                               with_rpe=report.with_rpe),
                              converted_from=osp.basename(args.src_ckpt))),
               args.dst_ckpt)
    print(f'wrote {args.dst_ckpt} ({len(new)} tensors)')
    if model is not None:
        missing_backbone = check_against_model(model, new)
        if missing_backbone:
            sys.exit(f'{missing_backbone} backbone keys missing')


if __name__ == '__main__':
    main()
