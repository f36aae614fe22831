#!/usr/bin/env bash
# Distributed training on one or more nodes with torchrun (PyTorch DDP via
# mmengine).  Usage: tools/dist_train.sh CONFIG GPUS [train.py options]
# Multi-node: NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 tools/dist_train.sh ...
# Without GPUs the processes use the gloo backend (see hrformer_mm.engine).
# MAX_RESTARTS (default 0): torchrun restarts the whole group up to this
# many times when a worker dies; the restarted workers resume from the
# newest complete checkpoint in the work dir (--resume is added from the
# first restart on); each restart round's process group keeps its keys
# apart from the dead round's in torchrun's store (docs/clusters.md).
# RDZV_BACKEND=c10d: a c10d rendezvous at MASTER_ADDR:PORT (id RDZV_ID)
# instead of the static one; the nodes' ranks are then assigned as they
# join (NODE_RANK is not needed).  See docs/clusters.md.
set -euo pipefail
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
MAX_RESTARTS=${MAX_RESTARTS:-0}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-python}
RDZV_BACKEND=${RDZV_BACKEND:-static}
if [ "$RDZV_BACKEND" = static ]; then
    RDZV=(--node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR"
          --master_port="$PORT")
else
    RDZV=(--rdzv-backend="$RDZV_BACKEND" --rdzv-endpoint="$MASTER_ADDR:$PORT"
          --rdzv-id="${RDZV_ID:-hrformer}")
    # a fresh store (and MASTER_PORT) for every restart round instead of
    # one shared across rounds, whose process-group keys the restarted
    # workers would read (see restart_round_store in hrformer_mm/engine)
    export TORCH_DISABLE_SHARE_RDZV_TCP_STORE=${TORCH_DISABLE_SHARE_RDZV_TCP_STORE:-1}
fi
PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --nproc_per_node="$GPUS" \
    "${RDZV[@]}" \
    --max-restarts="$MAX_RESTARTS" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
