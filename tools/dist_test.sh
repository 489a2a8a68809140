#!/usr/bin/env bash
# Usage: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [args...]
# CPU-only machines use the gloo backend automatically. Launched through the
# interpreter (PYTHON, default: python on PATH), as OpenMMLab's scripts do, so
# a virtual environment works without being activated:
#   PYTHON=venv/bin/python bash tools/dist_test.sh CONFIG CHECKPOINT 2
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
ARGS_FROM=4
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$NPROC \
    --master_port=$PORT \
    "$(dirname "$0")/test.py" \
    "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:$ARGS_FROM}"
