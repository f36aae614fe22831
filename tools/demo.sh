#!/usr/bin/env bash
# The built-in demo, end to end on CPU:
#   1. set up .venv if needed (tools/setup_env.sh);
#   2. generate the synthetic COCO-format and ADE20K-format data;
#   3. train HRFormer-T pose (heatmap head) and HRFormer-T + OCR segmentation
#      models from scratch, evaluating with mmpose's CocoMetric and mmseg's
#      IoUMetric;
#   4. evaluate the final checkpoints with tools/test.py, writing keypoint and
#      mask overlays, plot the training curves, and evaluate the untrained
#      models as a baseline.
# Results land in work_dirs/demo/; the last lines print COCO AP and mIoU.
#
#   bash tools/demo.sh --family hrnet|hrvit|hrpvt|det|cls|parsing [TRAIN ARGS]
# instead trains one other family's demo, tests it and evaluates it
# untrained as a baseline:
#   hrnet: the HRNetV2 landmark demo (configs/pose/hrnetv2_demo_wflw.py) on
#          the synthetic WFLW-format faces, NME (work_dirs/demo/face*);
#   hrvit: HRViT-b1 + SegFormer head (configs/seg/hrvit_demo_ade20k.py),
#          same data and budget as the HRFormer-T + OCR demo, mIoU
#          (work_dirs/demo/hrvit_seg*);
#   hrpvt: PVT v2 + HRPM with a SimCC head (configs/pose/hrpvt_demo_simcc_coco.py)
#          and, same model and budget, a heatmap head
#          (configs/pose/hrpvt_demo_heatmap_coco.py), on synthetic small and
#          medium people (data/demo/small), COCO AP and AP(M)
#          (work_dirs/demo/hrpvt_*);
#   det:   HRNetV2p Mask R-CNN (configs/det/hrnetv2p_demo_mask_rcnn.py) on
#          synthetic COCO-instance objects (data/demo/det), COCO box and mask
#          AP (work_dirs/demo/det*);
#   cls:   an HRFormer-T classifier (configs/cls/hrformer_demo_imagenet.py)
#          on synthetic ImageNet-layout objects and textures
#          (data/demo/cls), top-1 (work_dirs/demo/cls*); then the pose demo
#          (configs/pose/hrformer_demo_coco.py) fine-tuned from that
#          checkpoint's backbone and, same budget (POSE_EPOCHS, default 2),
#          from scratch: COCO AP of both
#          (work_dirs/demo/cls_pose_{pretrained,scratch}*).  TRAIN ARGS go
#          to the classifier's training.
#   parsing: HRNetV2-W18-Small + FCN head (configs/seg/hrnetv2_demo_lip.py)
#          on synthetic LIP-format people (data/demo/parsing), left / right
#          labels exchanged on flips, mIoU (work_dirs/demo/parsing*).
set -euo pipefail
FAMILY=hrformer
if [[ "${1:-}" == "--family" ]]; then
  FAMILY="${2:?--family needs hrformer, hrnet, hrvit, hrpvt, det, cls or parsing}"
  shift 2
fi
case "$FAMILY" in
  hrformer|hrnet|hrvit|hrpvt|det|cls|parsing) ;;
  *) echo "unknown --family $FAMILY" \
          "(hrformer, hrnet, hrvit, hrpvt, det, cls or parsing)" >&2
     exit 2 ;;
esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY=.venv/bin/python
OUT=work_dirs/demo
t0=$SECONDS

if [[ "$FAMILY" == hrpvt ]]; then
  $PY tools/generate_demo_data.py --out data/demo/small --only pose \
    --pose-people small --if-stale
elif [[ "$FAMILY" == det ]]; then
  $PY tools/generate_demo_data.py --out data/demo/det --only det --if-stale
elif [[ "$FAMILY" == parsing ]]; then
  $PY tools/generate_demo_data.py --out data/demo/parsing --only parsing \
    --if-stale
elif [[ "$FAMILY" == cls ]]; then
  $PY tools/generate_demo_data.py --out data/demo/cls --only cls --if-stale
  # the pose demo's people (with the default demo's other data: the same
  # stamp, so neither demo regenerates the other's)
  $PY tools/generate_demo_data.py --out data/demo --if-stale
else
  $PY tools/generate_demo_data.py --out data/demo --if-stale
fi

# One other family: train, test the last checkpoint, test untrained.
other_family() {  # CONFIG NAME
  $PY tools/train.py "$1" --work-dir "$OUT/$2" "${@:3}"
  $PY tools/test.py "$1" "$(cat "$OUT/$2/last_checkpoint")" \
    --work-dir "$OUT/$2_test" 2>&1 | tee "$OUT/$2_test.log"
  $PY tools/test.py "$1" none --work-dir "$OUT/$2_untrained" \
    > "$OUT/$2_untrained.log" 2>&1
}
case "$FAMILY" in
  hrnet) other_family configs/pose/hrnetv2_demo_wflw.py face "$@" ;;
  hrvit) other_family configs/seg/hrvit_demo_ade20k.py hrvit_seg "$@" ;;
  parsing) other_family configs/seg/hrnetv2_demo_lip.py parsing "$@" ;;
  hrpvt)
    for head in simcc heatmap; do
      other_family configs/pose/hrpvt_demo_${head}_coco.py hrpvt_$head "$@"
    done ;;
  det) other_family configs/det/hrnetv2p_demo_mask_rcnn.py det "$@" ;;
esac
if [[ "$FAMILY" =~ ^(hrnet|hrvit|parsing|hrpvt|det)$ ]]; then
  echo "Demo finished in $((SECONDS - t0)) s (setup excluded)."
  $PY tools/analysis/summarize_demo.py "$OUT" --family "$FAMILY"
  exit 0
elif [[ "$FAMILY" == cls ]]; then
  other_family configs/cls/hrformer_demo_imagenet.py cls "$@"
  cls_ckpt=$(cat "$OUT/cls/last_checkpoint")
  # the pose demo, its backbone initialised from the classifier's (the
  # checkpoint's backbone.* tensors; neck.* and head.* are not read), and
  # the same from scratch, both for POSE_EPOCHS (default 2 of the pose
  # demo's 3, the cosine schedule ending there) to keep the demo short
  pose_cfg=configs/pose/hrformer_demo_coco.py
  pose_epochs=${POSE_EPOCHS:-2}
  for init in pretrained scratch; do
    opts=(train_cfg.max_epochs=$pose_epochs param_scheduler.1.end=$pose_epochs)
    if [[ "$init" == pretrained ]]; then
      opts+=(model.backbone.init_cfg.type=Pretrained
             "model.backbone.init_cfg.checkpoint=$cls_ckpt"
             model.backbone.init_cfg.prefix=backbone.)
    fi
    $PY tools/train.py $pose_cfg --work-dir "$OUT/cls_pose_$init" \
      --cfg-options "${opts[@]}" 2>&1 | tee "$OUT/cls_pose_$init.log"
    pose_ckpt=$(cat "$OUT/cls_pose_$init/last_checkpoint")
    $PY tools/test.py $pose_cfg "$pose_ckpt" \
      --work-dir "$OUT/cls_pose_${init}_test" \
      > "$OUT/cls_pose_${init}_test.log" 2>&1
  done
  echo "Demo finished in $((SECONDS - t0)) s (setup excluded)."
  $PY tools/analysis/summarize_demo.py "$OUT" --family cls
  exit 0
fi

$PY tools/train.py configs/pose/hrformer_demo_coco.py --work-dir $OUT/pose "$@"
$PY tools/train.py configs/seg/hrformer_demo_ade20k.py --work-dir $OUT/seg "$@"

pose_ckpt=$(cat $OUT/pose/last_checkpoint)
seg_ckpt=$(cat $OUT/seg/last_checkpoint)
$PY tools/test.py configs/pose/hrformer_demo_coco.py "$pose_ckpt" \
  --work-dir $OUT/pose_test --show-dir "$ROOT/$OUT/pose_overlays" \
  2>&1 | tee $OUT/pose_test.log
$PY tools/test.py configs/seg/hrformer_demo_ade20k.py "$seg_ckpt" \
  --work-dir $OUT/seg_test --show-dir overlays 2>&1 | tee $OUT/seg_test.log
$PY tools/analysis/plot_curves.py $OUT/pose $OUT/seg --out $OUT/curves.png
# the baselines: the same models, randomly initialised and untrained
$PY tools/test.py configs/pose/hrformer_demo_coco.py none \
  --work-dir $OUT/pose_untrained > $OUT/pose_untrained.log 2>&1
$PY tools/test.py configs/seg/hrformer_demo_ade20k.py none \
  --work-dir $OUT/seg_untrained > $OUT/seg_untrained.log 2>&1

echo
echo "Demo finished in $((SECONDS - t0)) s (setup excluded)."
$PY tools/analysis/summarize_demo.py $OUT
