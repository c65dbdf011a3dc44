#!/usr/bin/env bash
# Run HERE, on a machine with PyPI, before a GPU session: what benchmarks/gpu_check.sh needs there.
#   bash benchmarks/gpu_prepare.sh          # wheels (.whl/) and tokenized data (.gpu-data/)
#   bash benchmarks/gpu_prepare.sh wheels   # only the wheels (bash tools/gpu/wheels.sh download)
#   bash benchmarks/gpu_prepare.sh data     # only the data (no network)
# PYTHON: the project's Python for the data part (default .venv/bin/python, else python3);
# ARXIVCAT_SHARED: the real data (default <repo>/../shared).  Both folders are git-ignored; the
# device command carries them (README, "GPU throughput check").
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case $what in all | wheels | data) ;; *) echo "usage: $0 [all|wheels|data]" >&2; exit 2 ;; esac

if [ "$what" != data ]; then
  bash tools/gpu/wheels.sh download
fi

if [ "$what" != wheels ]; then
  PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
  PYTHONPATH="$PWD/workflow${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 \
    "$PYTHON" benchmarks/gpu_prepare.py --output .gpu-data
fi
du -sh --total .whl .gpu-data 2>/dev/null || true
