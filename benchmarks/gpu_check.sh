#!/usr/bin/env bash
# GPU throughput of the train, evaluate and predict stages (benchmarks/gpu_check.py: what, how).
# On the GPU machine, from the repository root, with .whl and .gpu-data carried (made here by
# benchmarks/gpu_prepare.sh); about 7 minutes on an H200:
#   bash benchmarks/gpu_check.sh
# Here, on the CPU with the tiny BERT, in under 3 minutes (make gpu-smoke):
#   SMOKE=1 bash benchmarks/gpu_check.sh
# The table goes to stdout and, when $OUT is set, to $OUT/gpu_check.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f .gpu-data/info.json ]; then
  echo "gpu_check: .gpu-data is absent: run bash benchmarks/gpu_prepare.sh first" >&2
  exit 2
fi
if [ "${SMOKE:-0}" = 1 ]; then
  # The project's environment has every package; the wheels are for Python 3.12 only.
  PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
  args=(--smoke)
else
  PYTHON=python3
  args=()
  # The carried wheels, a fallback where the machine's packages miss a main wheel's requirements.
  mapfile -t wheels < <(python3 benchmarks/gpu_prepare.py wheels-pick --dir .whl)
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "${wheels[@]}"
  echo "installed into /tmp/site: ${wheels[*]##*/}"
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true
fi
export PYTHONPATH="$PWD/workflow:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec "$PYTHON" benchmarks/gpu_check.py --data .gpu-data ${args[@]+"${args[@]}"} "$@"
