"""Print the demo's headline numbers from the metrics tools/test.py wrote."""
import json
import os.path as osp
import sys


def main(out_dir: str) -> None:
    pose = json.load(open(osp.join(out_dir, 'pose_test', 'metrics.json')))
    seg = json.load(open(osp.join(out_dir, 'seg_test', 'metrics.json')))
    print(f"pose  HRFormer-T  COCO AP = {pose['coco/AP']:.3f}  "
          f"(AP50 {pose['coco/AP .5']:.3f}, AR {pose['coco/AR']:.3f})")
    print(f"seg   HRFormer-T+OCR  mIoU = {seg['mIoU'] / 100:.3f}  "
          f"(aAcc {seg['aAcc'] / 100:.3f})")
    print(f'keypoint overlays: {out_dir}/pose_overlays/')
    print(f'mask overlays:     {out_dir}/seg_test/overlays/')
    print(f'training curves:   {out_dir}/curves.png')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'work_dirs/demo')
