"""Write the built-in demo datasets: synthetic people in COCO keypoint
format (data/demo/coco), synthetic scenes in ADE20K format (data/demo/ade)
and synthetic faces in WFLW format (data/demo/wflw); with --only det, only
synthetic objects in COCO instance format (boxes and masks, OUT/coco; the
detection demo writes data/demo/det/coco); with --only cls, only synthetic
objects and textures for classification in the ImageNet folder layout
(OUT/imagenet; the classification demo writes data/demo/cls/imagenet); with
--only parsing, only synthetic people in LIP human parsing format (OUT/lip;
the parsing demo writes data/demo/parsing/lip); with --only aflw | cofw |
300w, only synthetic faces in that landmark format (OUT/aflw, OUT/cofw,
OUT/300w; --face-train / --face-val images).
Deterministic for a given --seed."""
import argparse
import json
import os
import os.path as osp
import runpy

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '_preamble.py'))

from hrformer_mm.datasets.synthetic import (  # noqa: E402
    GENERATOR_VERSION, generate_ade20k, generate_coco_detection,
    generate_coco_keypoints, generate_faces, generate_imagenet,
    generate_lip, generate_wflw)

STAMP = 'generator.json'
# landmark formats besides WFLW (data/demo/wflw): the seed offset of each
LANDMARK_SETS = {'aflw': 6, 'cofw': 7, '300w': 8}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', default='data/demo', help='output folder')
    p.add_argument('--seed', type=int, default=0,
                   help='the same seed writes the same files')
    p.add_argument('--pose-train', type=int, default=600,
                   help='COCO keypoint images, train split')
    p.add_argument('--pose-val', type=int, default=100,
                   help='COCO keypoint images, val split')
    p.add_argument('--pose-people', default='default',
                   choices=['default', 'small'],
                   help="'small': several small and medium people per "
                   'image, in COCO\'s area ranges (the HRPVT demo)')
    p.add_argument('--seg-train', type=int, default=400,
                   help='ADE20K-format scenes, train split')
    p.add_argument('--seg-val', type=int, default=60,
                   help='ADE20K-format scenes, val split')
    p.add_argument('--face-train', type=int, default=400,
                   help='WFLW-format faces, train split')
    p.add_argument('--face-val', type=int, default=100,
                   help='WFLW-format faces, test split')
    p.add_argument('--det-train', type=int, default=300,
                   help='COCO instance images (--only det), train split')
    p.add_argument('--det-val', type=int, default=60,
                   help='COCO instance images (--only det), val split')
    p.add_argument('--cls-train', type=int, default=40,
                   help='classification images per class, train split')
    p.add_argument('--cls-val', type=int, default=10,
                   help='classification images per class, val split')
    p.add_argument('--cls-size', type=int, default=64,
                   help='classification image side (pixels)')
    p.add_argument('--parsing-train', type=int, default=300,
                   help='LIP-format people (--only parsing), train split')
    p.add_argument('--parsing-val', type=int, default=60,
                   help='LIP-format people (--only parsing), val split')
    p.add_argument('--only',
                   choices=['pose', 'seg', 'face', 'det', 'cls', 'parsing',
                            *LANDMARK_SETS],
                   help="one dataset; 'det' (COCO instances), 'cls' "
                   "(ImageNet layout), 'parsing' (LIP format) and the "
                   "landmark formats 'aflw', 'cofw', '300w' are written "
                   'only when asked for')
    p.add_argument('--if-stale', action='store_true',
                   help='do nothing if --out already holds data written by '
                   'this generator version with these arguments')
    args = p.parse_args(argv)
    # what the files depend on; written last, so an interrupted run is stale
    # (the det / cls / parsing arguments only where that set is written:
    # other folders' stamps stay valid)
    key = dict(version=GENERATOR_VERSION,
               **{k: v for k, v in vars(args).items() if k != 'if_stale'
                  and all(args.only == only or not k.startswith(only + '_')
                          for only in ('det', 'cls', 'parsing'))})
    stamp = osp.join(args.out, STAMP)
    if args.if_stale and osp.isfile(stamp):
        with open(stamp) as f:
            if json.load(f) == key:
                print(f'{args.out} is up to date (generator version '
                      f'{GENERATOR_VERSION}); not regenerating')
                return
    if osp.isfile(stamp):
        os.remove(stamp)  # until this run completes
    summary = {}
    if args.only in (None, 'pose'):
        summary['coco'] = generate_coco_keypoints(
            osp.join(args.out, 'coco'), args.pose_train, args.pose_val,
            seed=args.seed, people=args.pose_people)
    if args.only in (None, 'seg'):
        summary['ade'] = generate_ade20k(
            osp.join(args.out, 'ade'), args.seg_train, args.seg_val,
            seed=args.seed + 1)
    if args.only in (None, 'face'):
        summary['wflw'] = generate_wflw(
            osp.join(args.out, 'wflw'), args.face_train, args.face_val,
            seed=args.seed + 2)
    if args.only == 'det':
        summary['coco_det'] = generate_coco_detection(
            osp.join(args.out, 'coco'), args.det_train, args.det_val,
            seed=args.seed + 3)
    if args.only in LANDMARK_SETS:
        summary[args.only] = generate_faces(
            osp.join(args.out, args.only), args.only, args.face_train,
            args.face_val, seed=args.seed + LANDMARK_SETS[args.only])
    if args.only == 'cls':
        summary['imagenet'] = generate_imagenet(
            osp.join(args.out, 'imagenet'), args.cls_train, args.cls_val,
            image_size=(args.cls_size, args.cls_size), seed=args.seed + 4)
    if args.only == 'parsing':
        summary['lip'] = generate_lip(
            osp.join(args.out, 'lip'), args.parsing_train, args.parsing_val,
            seed=args.seed + 5)
    with open(stamp, 'w') as f:
        json.dump(key, f)
    print(json.dumps(summary, indent=1))


if __name__ == '__main__':
    main()
