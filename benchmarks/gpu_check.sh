#!/usr/bin/env bash
# GPU throughput of the train, evaluate and predict stages (benchmarks/gpu_check.py: what, how).
# On the GPU machine, from the repository root, with .whl and .gpu-data carried (made here by
# benchmarks/gpu_prepare.sh); about 7 minutes on an H200:
#   bash benchmarks/gpu_check.sh
# Here, on the CPU with the tiny BERT, in a few minutes (make gpu-smoke); it also fails when the
# code imports a package that the GPU machine lacks and no carried wheel provides (tools/gpu/):
#   SMOKE=1 bash benchmarks/gpu_check.sh
# The table goes to stdout and, when $OUT is set, to $OUT/gpu_check.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f .gpu-data/info.json ]; then
  echo "gpu_check: .gpu-data is absent: run bash benchmarks/gpu_prepare.sh first" >&2
  exit 2
fi
export PYTHONPATH="$PWD/workflow:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
# TOKENIZERS_PARALLELISM stays unset, as in the rule's jobs: the predict stage tokenizes on every core.
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
if [ "${SMOKE:-0}" = 1 ]; then
  # The project's environment has every package; the wheels are for Python 3.12 only.
  PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
  exec "$PYTHON" tools/gpu/wheels.py audit benchmarks/gpu_check.py --data .gpu-data --smoke "$@"
fi
bash tools/gpu/wheels.sh install /tmp/site
export PYTHONPATH=/tmp/site:$PYTHONPATH
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true
exec python3 benchmarks/gpu_check.py --data .gpu-data "$@"
