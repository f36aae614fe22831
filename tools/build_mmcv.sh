#!/usr/bin/env bash
# Opt-in: build full mmcv 2.1.0 (with compiled ops) from source into a cached
# wheel and install it into the given venv.  Called by setup_env.sh when
# HRFORMER_FULL_MMCV=1.  About 20 minutes on 2 cores (CPU ops only, unless
# CUDA is available).
#
# torch 2.14's headers require C++20 while mmcv 2.1.0's setup.py asks for
# C++17, and its build needs setuptools < 81, ninja and psutil without build
# isolation.
#
# A wheel is only good for the build it came from: CPU-only ops, or CUDA ops
# for one CUDA version, against one torch.  The cache keeps one wheel per
# flavour (.cache/wheels/mmcv-2.1.0/<flavour>/, e.g. torch2.14.1-cpu or
# torch2.14.1-cu13.0), and an installed wheel's compiled ops are checked
# against the flavour wanted; a wheel that does not match is removed from
# the cache and built again.  mmcv's setup.py compiles CUDA ops when torch
# sees a GPU or FORCE_CUDA=1 (e.g. on a build node without GPUs), and so
# does the flavour.
set -euo pipefail

MMCV_VERSION=2.1.0

# the flavour this host builds: torch<version>-cpu or torch<version>-cu<cuda>
flavour() {
  "$PY" -c '
import os, sys
import torch
cuda = torch.cuda.is_available() or os.environ.get("FORCE_CUDA") == "1"
if cuda and torch.version.cuda is None:
    sys.exit("build_mmcv.sh: FORCE_CUDA=1, but this torch has no CUDA")
version = torch.__version__.split("+")[0]
print(f"torch{version}-" + (f"cu{torch.version.cuda}" if cuda else "cpu"))'
}

# the cached wheel of a flavour, or nothing
cached_wheel() {  # FLAVOUR
  ls "$CACHE/$1"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n1 || true
}

# whether the installed mmcv's compiled ops are of the flavour
installed_matches() {  # FLAVOUR
  local ops
  ops=$("$PY" -c 'from mmcv.ops import get_compiling_cuda_version as v
print(v())') || return 1
  case "$1" in
    *-cpu) [[ "$ops" == "not available" ]] ;;
    *-cu*) [[ "$ops" != "not available" &&
              "${ops%%.*}" == "$(cut -d. -f1 <<< "${1##*-cu}")" ]] ;;
  esac
}

build_wheel() {  # FLAVOUR
  local work out="$CACHE/$1"
  "$PY" -m pip install -q -r "$ROOT/requirements/mmcv_build.txt"
  work=$(mktemp -d)
  # --no-build-isolation: mmcv's setup.py imports pkg_resources, which an
  # isolated build env (newest setuptools) does not have
  "$PY" -m pip download -q --no-deps --no-build-isolation --no-binary :all: \
    -d "$work" "mmcv==$MMCV_VERSION"
  tar -xzf "$work/mmcv-$MMCV_VERSION.tar.gz" -C "$work"
  sed -i 's/-std=c++17/-std=c++20/g' "$work/mmcv-$MMCV_VERSION/setup.py"
  if [[ "$1" == *-cpu ]]; then
    export FORCE_CUDA=0
  else
    export FORCE_CUDA=1
  fi
  mkdir -p "$out"
  (cd "$work/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 "$PY" -m pip wheel -q \
      --no-build-isolation --no-deps -w "$out" .)
  rm -rf "$work"
}

install_wheel() {  # WHEEL
  # mmcv-lite and mmcv own the same files: remove both, then reinstall in
  # full
  "$PY" -m pip uninstall -q -y mmcv-lite mmcv 2>/dev/null || true
  "$PY" -m pip install -q --no-deps --force-reinstall "$1"
}

main() {  # VENV
  PY="$1/bin/python"
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  CACHE="$ROOT/.cache/wheels/mmcv-$MMCV_VERSION"
  local want wheel
  want=$(flavour)
  wheel=$(cached_wheel "$want")
  if [[ -n "$wheel" ]]; then
    install_wheel "$wheel"
    if installed_matches "$want"; then
      return 0
    fi
    echo "build_mmcv.sh: the cached $wheel is not a $want build;" \
      "removing it and building again" >&2
    rm -f "$wheel"
  fi
  build_wheel "$want"
  wheel=$(cached_wheel "$want")
  install_wheel "$wheel"
  if ! installed_matches "$want"; then
    echo "build_mmcv.sh: the mmcv just built ($wheel) has no $want ops" >&2
    rm -f "$wheel"
    return 1
  fi
}

main "$@"
