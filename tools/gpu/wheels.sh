#!/usr/bin/env bash
# The wheels the GPU machine lacks (tools/gpu/wheels.py says what and why), from the repository root:
#   bash tools/gpu/wheels.sh download        # HERE (PyPI needed): into .whl/, then checked
#   bash tools/gpu/wheels.sh install TARGET  # THERE: the picked wheels into TARGET (no network)
# .whl/ is git-ignored; the device command carries it (README, "GPU throughput check").
set -euo pipefail
cd "$(dirname "$0")/../.."
case ${1:-} in
  download)
    # One wheel per line of wheels.txt, for the GPU machine's Python 3.12 on x86_64;
    # "fallback NAME==VERSION" lines into .whl/fallback.
    grep -v '^#' tools/gpu/wheels.txt | grep . | while read -r first second; do
      if [ "$first" = fallback ]; then folder=.whl/fallback pin=$second; else folder=.whl pin=$first; fi
      python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux1_x86_64 -d "$folder" "$pin"
    done
    python3 tools/gpu/wheels.py check --dir .whl
    ;;
  install)
    target=${2:?usage: $0 install TARGET}
    # The carried wheels, a fallback where the machine's packages miss a main wheel's requirements.
    mapfile -t wheels < <(python3 tools/gpu/wheels.py pick --dir .whl)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target "$target" "${wheels[@]}"
    echo "installed into $target: ${wheels[*]##*/}"
    ;;
  *) echo "usage: $0 download | install TARGET" >&2; exit 2 ;;
esac
