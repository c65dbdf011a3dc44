#!/usr/bin/env bash
# Run HERE, on a machine with PyPI, before a GPU session: what benchmarks/gpu_check.sh needs there.
#   bash benchmarks/gpu_prepare.sh          # wheels (.whl/) and tokenized data (.gpu-data/)
#   bash benchmarks/gpu_prepare.sh wheels   # only the wheels
#   bash benchmarks/gpu_prepare.sh data     # only the data (no network)
# PYTHON: the project's Python for the data part (default .venv/bin/python, else python3);
# ARXIVCAT_SHARED: the real data (default <repo>/../shared).  Both folders are git-ignored; the
# device command carries them (README, "GPU throughput check").
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case $what in all | wheels | data) ;; *) echo "usage: $0 [all|wheels|data]" >&2; exit 2 ;; esac

if [ "$what" != data ]; then
  # One wheel per line of gpu_wheels.txt, for the GPU machine's Python 3.12 on x86_64;
  # "fallback NAME==VERSION" lines into .whl/fallback.
  grep -v '^#' benchmarks/gpu_wheels.txt | grep . | while read -r first second; do
    if [ "$first" = fallback ]; then folder=.whl/fallback pin=$second; else folder=.whl pin=$first; fi
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux1_x86_64 -d "$folder" "$pin"
  done
  python3 benchmarks/gpu_prepare.py wheels-check --dir .whl
fi

if [ "$what" != wheels ]; then
  PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
  PYTHONPATH="$PWD/workflow${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 \
    "$PYTHON" benchmarks/gpu_prepare.py data --output .gpu-data
fi
du -sh --total .whl .gpu-data 2>/dev/null || true
