#!/usr/bin/env bash
# Optional XLA check (not part of `make test`): build a torch 2.9 + torch_xla 2.9 environment and
# train the tiny model through the train stage's TPU code path on torch_xla's CPU client.
# Usage: tests/xla/run.sh [VENV_DIR]   (default /tmp/arxivcat-xla-venv; ~2.5 min to build here)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${1:-/tmp/arxivcat-xla-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    time "$venv/bin/pip" install --quiet -r "$repo/requirements/xla.txt"
fi
cd "$repo"
PJRT_DEVICE=CPU HF_HUB_OFFLINE=1 PYTHONPATH="$repo/workflow" timeout 900 \
    "$venv/bin/python" tests/xla/train_on_xla.py
