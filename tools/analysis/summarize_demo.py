"""Print a demo's headline numbers from the metrics tools/test.py wrote.

``bash tools/demo.sh [--family F]`` ends with this: one line per run, the
trained model's metrics first, then the same model untrained (the
baseline) where the demo evaluated it.
"""
import argparse
import json
import os.path as osp


def _metrics(out_dir: str, run: str, optional: bool = False) -> dict:
    """``run``'s metrics.json; {} for a missing optional one."""
    path = osp.join(out_dir, run, 'metrics.json')
    if optional and not osp.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def coco_ap(m: dict) -> str:
    return (f"COCO AP = {m['coco/AP']:.3f}  (AP50 {m['coco/AP .5']:.3f}, "
            f"AR {m['coco/AR']:.3f})")


def coco_ap_by_size(m: dict) -> str:
    return (f"COCO AP = {m['coco/AP']:.3f}  (AP(M) {m['coco/AP (M)']:.3f}, "
            f"AP(L) {m['coco/AP (L)']:.3f}, AR {m['coco/AR']:.3f})")


def miou(m: dict) -> str:
    return f"mIoU = {m['mIoU'] / 100:.3f}  (aAcc {m['aAcc'] / 100:.3f})"


def nme(m: dict) -> str:
    return f"NME = {m['NME']:.4f}"


def box_mask_ap(m: dict) -> str:
    return (f"box AP = {m['coco/bbox_mAP']:.3f}  (AP50 "
            f"{m['coco/bbox_mAP_50']:.3f}), mask AP = "
            f"{m['coco/segm_mAP']:.3f}  (AP50 {m['coco/segm_mAP_50']:.3f})")


def top1(m: dict) -> str:
    return f"top-1 = {m['accuracy/top1'] / 100:.3f}"


#: per family, its runs: (label, run folder, metrics, untrained baseline's
#: run folder or None); the folders are the ones tools/demo.sh writes
FAMILIES = {
    'hrformer': [('pose  HRFormer-T', 'pose_test', coco_ap, 'pose_untrained'),
                 ('seg   HRFormer-T+OCR', 'seg_test', miou, 'seg_untrained')],
    'hrnet': [('face  HRNetV2-W18', 'face_test', nme, 'face_untrained')],
    'hrvit': [('seg   HRViT-b1', 'hrvit_seg_test', miou,
               'hrvit_seg_untrained')],
    'parsing': [('parsing  HRNetV2-W18-Small', 'parsing_test', miou,
                 'parsing_untrained')],
    'hrpvt': [('pose  HRPVT SimCC', 'hrpvt_simcc_test', coco_ap_by_size,
               'hrpvt_simcc_untrained'),
              ('pose  HRPVT heatmap', 'hrpvt_heatmap_test', coco_ap_by_size,
               'hrpvt_heatmap_untrained')],
    'det': [('det   HRNetV2p Mask R-CNN', 'det_test', box_mask_ap,
             'det_untrained')],
    'cls': [('cls   HRFormer-T', 'cls_test', top1, 'cls_untrained'),
            ('pose  HRFormer-T from the classifier', 'cls_pose_pretrained_test',
             coco_ap, None),
            ('pose  HRFormer-T from scratch', 'cls_pose_scratch_test',
             coco_ap, None)],
}

#: what the default demo leaves to look at besides the numbers
PICTURES = {'hrformer': [('keypoint overlays', 'pose_overlays/'),
                         ('mask overlays', 'seg_test/overlays/'),
                         ('training curves', 'curves.png')]}


def summary(out_dir: str, family: str = 'hrformer') -> str:
    """The lines the demo of ``family`` prints."""
    lines = []
    width = max(len(label) for label, *_ in FAMILIES[family])
    for label, run, fmt, baseline in FAMILIES[family]:
        lines.append(f'{label:<{width}}  {fmt(_metrics(out_dir, run))}')
        untrained = _metrics(out_dir, baseline, optional=True) \
            if baseline else {}
        if untrained:
            lines.append(f"{'':<{width}}  untrained: {fmt(untrained)}")
    for what, path in PICTURES.get(family, []):
        lines.append(f'{what + ":":<19}{osp.join(out_dir, path)}')
    return '\n'.join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out', nargs='?', default='work_dirs/demo',
                   help='the demo\'s output folder')
    p.add_argument('--family', default='hrformer', choices=sorted(FAMILIES),
                   help='which demo ran (tools/demo.sh --family)')
    return p.parse_args(argv)


if __name__ == '__main__':
    args = parse_args()
    print(summary(args.out, args.family))
