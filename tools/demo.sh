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
#   bash tools/demo.sh --family hrnet [TRAIN ARGS]
# instead trains the HRNetV2 landmark demo (configs/pose/hrnetv2_demo_wflw.py)
# on the synthetic WFLW-format faces and prints its NME before and after
# training (work_dirs/demo/face*).
set -euo pipefail
FAMILY=hrformer
if [[ "${1:-}" == "--family" ]]; then
  FAMILY="${2:?--family needs hrformer or hrnet}"
  shift 2
fi
case "$FAMILY" in
  hrformer|hrnet) ;;
  *) echo "unknown --family $FAMILY (hrformer or hrnet)" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY=.venv/bin/python
OUT=work_dirs/demo
t0=$SECONDS

$PY tools/generate_demo_data.py --out data/demo --if-stale

if [[ "$FAMILY" == hrnet ]]; then
  CFG=configs/pose/hrnetv2_demo_wflw.py
  $PY tools/train.py $CFG --work-dir $OUT/face "$@"
  $PY tools/test.py $CFG "$(cat $OUT/face/last_checkpoint)" \
    --work-dir $OUT/face_test 2>&1 | tee $OUT/face_test.log
  $PY tools/test.py $CFG none --work-dir $OUT/face_untrained \
    > $OUT/face_untrained.log 2>&1
  echo
  echo "Demo finished in $((SECONDS - t0)) s (setup excluded)."
  echo "NME untrained: $(grep -o 'NME: [0-9.]*' $OUT/face_untrained.log | tail -1)"
  echo "NME trained:   $(grep -o 'NME: [0-9.]*' $OUT/face_test.log | tail -1)"
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
