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

# 1. The GPU-only end-to-end tests: parity and bf16 against mmpose, compiled
#    blocks, --amp training and tools/test.py, NCCL, a resumed GPU run.
step gpu_tests 140 "$PYTHON" -m pytest -q tests/test_gpu.py \
    tests/test_engine/test_gpu_train_resume.py -p no:cacheprovider
# 2. The quick loop with a GPU present: the tests marked "needs a CUDA GPU"
#    run (fused attention kernels, probe without CUDA graphs, CUDA RNG, the
#    served mmcv ops on CUDA) and the rest must give the same answers.
PARALLEL=()
"$PYTHON" -c "import xdist" 2>/dev/null && PARALLEL=(-n 8)
step suite_with_gpu 100 "$PYTHON" -m pytest -q -m "not slow" \
    -p no:cacheprovider ${PARALLEL[@]+"${PARALLEL[@]}"}
# 3. SyncBN in compiled blocks with two ranks (both on this GPU, over gloo).
step sync_bn_compiled 60 "$PYTHON" -m torch.distributed.run --nproc_per_node=2 \
    --master_port=29611 tests/helpers/sync_bn_compile_check.py --backend aot_eager
# 4. --launcher mpi, one rank with Open MPI's variables: NCCL group, device.
"$PYTHON" tools/generate_demo_data.py --out data/demo --only pose --if-stale \
    > "$OUT_DIR/demo_data.log" 2>&1
step mpi_launcher 50 env OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_SIZE=1 \
    OMPI_COMM_WORLD_LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29612 \
    "$PYTHON" tools/train.py configs/pose/hrformer_demo_coco.py --launcher mpi \
    --work-dir "$OUT_DIR/mpi" --cfg-options train_cfg.max_epochs=1
# 5. Speed against what users would otherwise pick (HRNet), bf16 training.
step bench_train_small 35 "$PYTHON" tools/analysis/benchmark.py --device cuda \
    --arch small --mode train --batch 32 --iters 10 --warmup 3 --amp bf16 \
    --memory --variants mmpose ours hrnet-w32
step bench_train_base 35 "$PYTHON" tools/analysis/benchmark.py --device cuda \
    --arch base --mode train --batch 32 --iters 10 --warmup 3 --amp bf16 \
    --memory --variants mmpose ours hrnet-w48
# 6. A tools/train.py iteration on the built-in pose data.
step iteration_time 45 "$PYTHON" tools/analysis/iteration_time.py \
    configs/pose/hrformer_demo_coco.py --amp --iters 10 --warmup 3 \
    --cfg-options train_dataloader.num_workers=8

printf '%s\n' ${SUMMARY[@]+"${SUMMARY[@]}"} | tee "$OUT_DIR/summary.txt"
