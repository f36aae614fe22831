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
# `bash tools/demo.sh --family hrvit` instead trains, tests and evaluates
# untrained the HRViT-b1 + SegFormer-head segmentation demo (same data and
# budget as the HRFormer-T + OCR one), under work_dirs/demo/hrvit_*.
set -euo pipefail
family=hrformer
if [[ "${1:-}" == --family ]]; then
  family=$2
  shift 2
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY=.venv/bin/python
OUT=work_dirs/demo
t0=$SECONDS

$PY tools/generate_demo_data.py --out data/demo --if-stale

if [[ $family == hrvit ]]; then
  cfg=configs/seg/hrvit_demo_ade20k.py
  $PY tools/train.py $cfg --work-dir $OUT/hrvit_seg "$@"
  $PY tools/test.py $cfg "$(cat $OUT/hrvit_seg/last_checkpoint)" \
    --work-dir $OUT/hrvit_seg_test 2>&1 | tee $OUT/hrvit_seg_test.log
  $PY tools/test.py $cfg none --work-dir $OUT/hrvit_seg_untrained \
    > $OUT/hrvit_seg_untrained.log 2>&1
  echo "HRViT demo finished in $((SECONDS - t0)) s (setup excluded)."
  for run in hrvit_seg_test hrvit_seg_untrained; do
    $PY -c "import json, sys; m = json.load(open(sys.argv[1]));
print(f\"$run: mIoU {m['mIoU'] / 100:.3f} (aAcc {m['aAcc'] / 100:.3f})\")" \
      $OUT/$run/metrics.json
  done
  exit 0
elif [[ $family != hrformer ]]; then
  echo "unknown --family $family (hrformer or hrvit)" >&2
  exit 2
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
