"""Run a trained model on your own pictures: image files, folders of
images and videos (every frame is a picture).

    python tools/infer.py CONFIG CHECKPOINT INPUT... --out DIR
        [--device cpu|cuda:0] [--bboxes boxes.json] [--kpt-thr 0.3]
        [--det-config DET_CONFIG --det-checkpoint DET_CKPT
         [--det-cat-id 0] [--det-score-thr 0.3] [--det-nms-thr 0.3]]

A top-down pose model reads one box per person: an mmdet detector finds
them (--det-config), a box file lists them (--bboxes), or the whole picture
is one.

What it writes is described in hrformer_mm/inference.py.
"""
import argparse
import os
import os.path as osp
import runpy

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '_preamble.py'))

import torch  # noqa: E402

import hrformer_mm  # noqa: E402,F401  (environment fixes before mm* imports)
from hrformer_mm.inference import infer  # noqa: E402
from hrformer_mm.safe_load import TRUST_ENV  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='a pose (top-down) or segmentation config')
    p.add_argument('checkpoint', help='checkpoint file or URL, or "none"')
    p.add_argument('inputs', nargs='+', metavar='INPUT',
                   help='image files, folders, videos')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--device', default='cuda:0' if torch.cuda.is_available()
                   else 'cpu', help='cpu or cuda:N (default: the first GPU '
                   'if there is one)')
    p.add_argument('--bboxes', help='person boxes (pose configs are '
                   'top-down): a COCO annotation file (images + annotations, '
                   'matched by file name) or a detection-result list '
                   '([{"image_id" or "file_name", "bbox": [x, y, w, h], '
                   '"score"}], image_id matched to a numeric file name such '
                   'as 000000000139.jpg); default: the whole image is one '
                   'box')
    p.add_argument('--bbox-thr', type=float, default=0.0,
                   help='ignore --bboxes boxes with a lower score')
    p.add_argument('--det-config', help='an mmdet detector config that '
                   'finds the people for a pose config (any mmdet detector, '
                   'e.g. configs/det/hrnetv2p_w32_faster_rcnn_coco.py)')
    p.add_argument('--det-checkpoint', help='the detector\'s checkpoint '
                   'file or URL, or "none"')
    p.add_argument('--det-cat-id', type=int, default=0,
                   help='the detector\'s class index of people (0: person '
                   'in COCO\'s 80 classes and in the built-in data)')
    p.add_argument('--det-score-thr', type=float, default=0.3,
                   help='keep detected people scoring above this')
    p.add_argument('--det-nms-thr', type=float, default=0.3,
                   help='IoU above which a lower-scoring person box is '
                   'dropped (NMS)')
    p.add_argument('--kpt-thr', type=float, default=0.3,
                   help='draw keypoints with at least this score')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='unpickle the checkpoint fully (it can run code)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.trust_checkpoint:
        os.environ[TRUST_ENV] = '1'
    return infer(args.config, args.checkpoint, args.inputs, args.out,
                 args.device, args.bboxes, args.bbox_thr, args.kpt_thr,
                 det_config=args.det_config,
                 det_checkpoint=args.det_checkpoint,
                 det_cat_id=args.det_cat_id,
                 det_score_thr=args.det_score_thr,
                 det_nms_thr=args.det_nms_thr)


if __name__ == '__main__':
    main()
