#!/usr/bin/env bash
# Every check that needs a CUDA GPU, in one run of under 8 minutes on one
# H100 / H200 (docs/gpu.md lists what each step verifies).
#
#   bash tools/gpu_check.sh [OUT_DIR]
#
# Run from the project root in an environment with hrformer_mm and its hosts
# importable (the project's .venv, or PYTHON=python3 where the stack is on
# PYTHONPATH).  Each step has its own time limit and writes its log to
# OUT_DIR (default $OUT, else work_dirs/gpu_check); the summary table is
# printed last, so a run cut short still leaves every finished step's log.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
OUT_DIR=${1:-${OUT:-work_dirs/gpu_check}}
mkdir -p "$OUT_DIR"
SUMMARY=()

step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2 start rc
    shift 2
    start=$(date +%s)
    timeout "$limit" "$@" > "$OUT_DIR/$name.log" 2>&1
    rc=$?
    SUMMARY+=("$(printf '%-22s rc=%-3s %4ss' "$name" "$rc" "$(( $(date +%s) - start ))")")
    echo "${SUMMARY[-1]}"
}

"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; \
print(torch.__version__, torch.cuda.get_device_name())" || exit 1

# 1. The GPU-only tests: device handling of resume, fused attention kernels,
#    parity and bf16 against mmpose, compiled blocks, --amp, NCCL.
step gpu_tests 240 "$PYTHON" -m pytest -q -x tests/test_gpu.py -p no:cacheprovider
# 2. The quick loop with a GPU present: the suite must give the same answers.
PARALLEL=()
"$PYTHON" -c "import xdist" 2>/dev/null && PARALLEL=(-n 8)
step suite_with_gpu 150 "$PYTHON" -m pytest -q -m "not e2e and not cluster" \
    -p no:cacheprovider ${PARALLEL[@]+"${PARALLEL[@]}"}
# 3. Speed against what users would otherwise pick (HRNet), bf16 training.
step bench_train_small 45 "$PYTHON" tools/analysis/benchmark.py --device cuda \
    --arch small --mode train --batch 32 --iters 10 --warmup 3 --amp bf16 \
    --memory --variants mmpose ours hrnet-w32
step bench_train_base 45 "$PYTHON" tools/analysis/benchmark.py --device cuda \
    --arch base --mode train --batch 32 --iters 10 --warmup 3 --amp bf16 \
    --memory --variants mmpose ours hrnet-w48
# 4. A tools/train.py iteration on the built-in pose data.
step iteration_time 60 "$PYTHON" tools/analysis/iteration_time.py \
    configs/pose/hrformer_demo_coco.py --amp --iters 10 --warmup 3 \
    --cfg-options train_dataloader.num_workers=8

printf '%s\n' ${SUMMARY[@]+"${SUMMARY[@]}"} | tee "$OUT_DIR/summary.txt"
