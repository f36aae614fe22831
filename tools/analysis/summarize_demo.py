"""Print the demo's headline numbers from the metrics tools/test.py wrote."""
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


def cls_summary(out_dir: str) -> None:
    """``--family cls``: the classifier's top-1 trained and untrained, and
    the pose demo's AP fine-tuned from its backbone and from scratch."""
    cls = _metrics(out_dir, 'cls_test')
    cls0 = _metrics(out_dir, 'cls_untrained', optional=True)
    untrained = (f"  untrained: {cls0['accuracy/top1'] / 100:.3f}"
                 if cls0 else '')
    print(f"cls   HRFormer-T  top-1 = {cls['accuracy/top1'] / 100:.3f}"
          + untrained)
    for init, what in (('pretrained', 'from the classifier'),
                       ('scratch', 'from scratch')):
        m = _metrics(out_dir, f'cls_pose_{init}_test')
        print(f"pose  HRFormer-T  {what:<19} COCO AP = {m['coco/AP']:.3f}  "
              f"(AP50 {m['coco/AP .5']:.3f}, AR {m['coco/AR']:.3f})")


def main(out_dir: str) -> None:
    pose = _metrics(out_dir, 'pose_test')
    seg = _metrics(out_dir, 'seg_test')
    pose0 = _metrics(out_dir, 'pose_untrained', optional=True)
    seg0 = _metrics(out_dir, 'seg_untrained', optional=True)
    untrained = (f"  untrained: {pose0['coco/AP']:.3f}" if pose0 else '')
    print(f"pose  HRFormer-T  COCO AP = {pose['coco/AP']:.3f}  "
          f"(AP50 {pose['coco/AP .5']:.3f}, AR {pose['coco/AR']:.3f})"
          + untrained)
    untrained = (f"  untrained: {seg0['mIoU'] / 100:.3f}" if seg0 else '')
    print(f"seg   HRFormer-T+OCR  mIoU = {seg['mIoU'] / 100:.3f}  "
          f"(aAcc {seg['aAcc'] / 100:.3f})" + untrained)
    print(f'keypoint overlays: {out_dir}/pose_overlays/')
    print(f'mask overlays:     {out_dir}/seg_test/overlays/')
    print(f'training curves:   {out_dir}/curves.png')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out', nargs='?', default='work_dirs/demo',
                   help='the demo\'s output folder')
    p.add_argument('--family', default='hrformer',
                   help="which demo ran: 'cls' for the classification demo, "
                   'otherwise the default pose + segmentation one')
    return p.parse_args(argv)


if __name__ == '__main__':
    args = parse_args()
    if args.family == 'cls':
        cls_summary(args.out)
    else:
        main(args.out)
