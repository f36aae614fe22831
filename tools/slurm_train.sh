#!/usr/bin/env bash
# Training on a Slurm cluster: one task per GPU, mmengine reads the Slurm
# environment (--launcher slurm).
# Usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options]
# Env: GPUS (total, default 8), GPUS_PER_NODE (8), CPUS_PER_TASK (5),
#      SRUN_ARGS (extra srun flags),
#      SIGNAL_SECS (120): Slurm sends SIGUSR1 to every task this many
#        seconds before the time limit; each rank finishes its iteration,
#        the job saves preempt_iter_<N>.pth and exits with status 75,
#      REQUEUE (1): then, inside a batch job (sbatch), requeue it with
#        `scontrol requeue`; the restarted job (SLURM_RESTART_COUNT > 0)
#        resumes from the newest complete checkpoint (--resume).
# See docs/clusters.md.
set -uo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
SIGNAL_SECS=${SIGNAL_SECS:-120}
REQUEUE=${REQUEUE:-1}
PREEMPTED=75  # hrformer_mm.engine.PREEMPTED_EXIT_CODE
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-python}
# expanded as ${RESUME[@]+"${RESUME[@]}"}: under set -u, bash < 4.4 takes
# "${RESUME[@]}" of an empty array for an unbound variable
RESUME=()
if [ "${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then
    RESUME=(--resume)  # after the user's options: the newest checkpoint
    echo "slurm_train.sh: restart ${SLURM_RESTART_COUNT} of job" \
        "${SLURM_JOB_ID:-?}: resuming"
fi
PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    --signal=USR1@"$SIGNAL_SECS" \
    $SRUN_ARGS \
    "$PYTHON" -u "$ROOT/tools/train.py" "$CONFIG" --launcher slurm \
    "${@:4}" ${RESUME[@]+"${RESUME[@]}"}
rc=$?
if [ "$rc" -eq "$PREEMPTED" ]; then
    if [ "$REQUEUE" = 1 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
        echo "slurm_train.sh: preempted; requeueing job $SLURM_JOB_ID"
        scontrol requeue "$SLURM_JOB_ID"
    else
        echo "slurm_train.sh: preempted; run the same command with" \
            "--resume to continue"
    fi
fi
exit "$rc"
