"""Convert an HRFormer, HRNet or HRViT checkpoint into hrformer_mm's key
scheme.

    python tools/convert_checkpoint.py --src {official,mmpose,hrnet,hrvit,auto}
        IN OUT [--keep-rpe] [--config CONFIG]

``official``: the reference HRFormer release (pose, segmentation or ImageNet
models, told apart by their heads); ``mmpose``: mmpose's HRFormer;
``hrnet``: mmpose's, mmseg's or mmdet's HRNet (or the reference ImageNet
release), whose keys are already ours, so only the classifier is dropped;
``hrvit``: a checkpoint of the public HRViT code (facebookresearch/HRViT).
``auto`` (the default) detects the source.

Prints what was renamed, merged and dropped.  With ``--config`` it also
builds that config's model, loads the converted weights and reports missing
and unexpected keys (and fails if the backbone misses any).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

import hrformer_mm  # noqa: E402,F401
from hrformer_mm.engine.checks import load_state_dict_from_file  # noqa: E402
from hrformer_mm.models.convert import SOURCES, convert_checkpoint  # noqa


def check_against_config(config: str, state: dict, with_rpe: bool) -> int:
    from mmengine.config import Config

    from hrformer_mm.engine.launch import build_model_from_config
    cfg = Config.fromfile(config)
    if cfg.model.backbone.type.endswith('HRFormer'):
        cfg.model.backbone.with_rpe = with_rpe
    _, model = build_model_from_config(cfg)
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
    p.add_argument('src_ckpt', metavar='IN')
    p.add_argument('dst_ckpt', metavar='OUT')
    p.add_argument('--src', default='auto',
                   choices=list(SOURCES) + ['auto'])
    p.add_argument('--keep-rpe', action='store_true',
                   help='keep the relative position bias tables of a '
                   'reference pose checkpoint (they were never trained)')
    p.add_argument('--config', help='check the result against this config')
    args = p.parse_args(argv)

    state = load_state_dict_from_file(args.src_ckpt)
    new, report = convert_checkpoint(
        state, args.src, keep_rpe=True if args.keep_rpe else None)
    print(report.summary())
    torch.save(dict(state_dict=new,
                    meta=dict(hrformer_mm=dict(source=report.source,
                                               with_rpe=report.with_rpe),
                              converted_from=osp.basename(args.src_ckpt))),
               args.dst_ckpt)
    print(f'wrote {args.dst_ckpt} ({len(new)} tensors)')
    if args.config:
        missing_backbone = check_against_config(args.config, new,
                                                report.with_rpe)
        if missing_backbone:
            sys.exit(f'{missing_backbone} backbone keys missing')


if __name__ == '__main__':
    main()
