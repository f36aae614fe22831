#!/usr/bin/env bash
# Opt-in: build full mmcv 2.1.0 (with compiled ops) from source into a cached
# wheel and install it into the given venv.  Called by setup_env.sh when
# HRFORMER_FULL_MMCV=1.  About 20 minutes on 2 cores (CPU ops only, unless
# CUDA is available).
#
# torch 2.14's headers require C++20 while mmcv 2.1.0's setup.py asks for
# C++17, and its build needs setuptools < 81, ninja and psutil without build
# isolation.
set -euo pipefail
VENV=$1
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache/wheels"
PY="$VENV/bin/python"
mkdir -p "$CACHE"
wheel=$(ls "$CACHE"/mmcv-2.1.0-*.whl 2>/dev/null | head -n1 || true)
if [[ -z "$wheel" ]]; then
  "$PY" -m pip install -q -r "$ROOT/requirements/mmcv_build.txt"
  work=$(mktemp -d)
  # --no-build-isolation: mmcv's setup.py imports pkg_resources, which an
  # isolated build env (newest setuptools) no longer has
  "$PY" -m pip download -q --no-deps --no-build-isolation --no-binary :all: \
    -d "$work" mmcv==2.1.0
  tar -xzf "$work"/mmcv-2.1.0.tar.gz -C "$work"
  sed -i 's/-std=c++17/-std=c++20/g' "$work"/mmcv-2.1.0/setup.py
  if "$PY" -c "import torch,sys; sys.exit(not torch.cuda.is_available())"; then
    export FORCE_CUDA=1
  else
    export FORCE_CUDA=0
  fi
  (cd "$work"/mmcv-2.1.0 && MMCV_WITH_OPS=1 "$PY" -m pip wheel -q \
      --no-build-isolation --no-deps -w "$CACHE" .)
  rm -rf "$work"
  wheel=$(ls "$CACHE"/mmcv-2.1.0-*.whl | head -n1)
fi
# mmcv-lite and mmcv own the same files: remove both, then reinstall in full
"$PY" -m pip uninstall -q -y mmcv-lite mmcv 2>/dev/null || true
"$PY" -m pip install -q --no-deps --force-reinstall "$wheel"
