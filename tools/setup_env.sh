#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with the whole
# OpenMMLab stack pinned and installed in the one order that works today.
#
# Idempotent: a stamp file records a hash of this script and the requirement
# files; when nothing changed the script returns in well under a second.
#
# Why each step is the way it is (all measured on 2-core x86_64, Python 3.11):
#   * torch 2.14.1 / torchvision 0.29.1 are the newest pair that install together
#     from local wheels; the CPU-only 2.13 wheel has no matching torchvision.
#   * setuptools < 81 because mmengine needs pkg_resources at run time.
#   * mmpose, mmdet, mmpretrain and openmim go in with --no-deps (mmpretrain
#     declares mmcv, a source build of full mmcv; openmim declares
#     opendatalab, which pins old requests / setuptools and which mim's
#     search / train / test never import; their real imports are in
#     runtime.txt):
#     mmpose pins chumpy, which neither
#     builds nor imports on numpy 2 and which mmpose never imports.
#   * xtcocotools' wheel is built against numpy 1; rebuild it against numpy 2.
#   * mmcv-lite has no compiled ops; hrformer_mm installs a placeholder for
#     mmcv._ext (hrformer_mm/ops_fallback.py) that serves nms and roi_align
#     from torchvision and raises a clear error naming any other compiled op.
#     The install also puts hrformer_mm_mmcv_ext.pth into site-packages, so
#     the hosts' APIs find the placeholder when imported before hrformer_mm
#     (checked at the end, in a fresh interpreter).
#     Set HRFORMER_FULL_MMCV=1 to build full mmcv 2.1.0 from source instead
#     (14 minutes of setup on 2 cores, measured; the wheel is cached under
#     .cache/wheels, so later setups reuse it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${HRFORMER_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
REQ="$ROOT/requirements"
STAMP="$VENV/.hrformer_mm_stamp"

# A venv built with HRFORMER_FULL_MMCV=1 stays on full mmcv when later runs
# (the demo, the tests) leave the variable unset; set it to 0 to go back.
if [[ -z "${HRFORMER_FULL_MMCV:-}" ]] && [[ -f "$STAMP" ]] &&
   grep -qx 'full_mmcv=1' "$STAMP"; then
  export HRFORMER_FULL_MMCV=1
fi

want_stamp() {
  cat "$ROOT/tools/setup_env.sh" "$REQ"/*.txt "$ROOT/setup.py" | sha256sum | cut -d' ' -f1
  echo "full_mmcv=${HRFORMER_FULL_MMCV:-0}"
}

if [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$(want_stamp)" ]]; then
  exit 0
fi

log() { printf '[setup_env] %s\n' "$*" >&2; }
t0=$SECONDS

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)
C=(-c "$REQ/constraints.txt")

log "1/7 pip"
"${PIP[@]}" install -q "pip==26.0.1"
log "2/7 torch + torchvision"
"${PIP[@]}" install -q "${C[@]}" -r "$REQ/torch.txt"
log "3/7 build tools + numpy"
"${PIP[@]}" install -q "${C[@]}" -r "$REQ/build.txt"
log "4/7 mmengine, mmcv, mmsegmentation and the runtime dependencies"
if [[ "${HRFORMER_FULL_MMCV:-0}" == "1" ]]; then
  "$ROOT/tools/build_mmcv.sh" "$VENV"
else
  # leaving full mmcv: its compiled _ext would otherwise stay behind, and
  # both distributions own the same files, so reinstall lite in full
  if "$VENV/bin/python" -m pip show -q mmcv 2>/dev/null; then
    "${PIP[@]}" uninstall -q -y mmcv
    "${PIP[@]}" install -q "${C[@]}" --no-build-isolation --force-reinstall \
      --no-deps "mmcv-lite==2.1.0"
  fi
  "${PIP[@]}" install -q "${C[@]}" --no-build-isolation "mmcv-lite==2.1.0"
fi
"${PIP[@]}" install -q "${C[@]}" -r "$REQ/runtime.txt"
log "5/7 mmpose + mmdet + mmpretrain + openmim without their broken dependency pins"
"${PIP[@]}" install -q "${C[@]}" --no-deps -r "$REQ/nodeps.txt"
log "6/7 xtcocotools rebuilt against numpy 2"
if ! "$VENV/bin/python" -c "import xtcocotools.mask" 2>/dev/null; then
  "${PIP[@]}" install -q "${C[@]}" --force-reinstall --no-deps --no-build-isolation \
    --no-binary xtcocotools "xtcocotools==1.14.3"
fi
log "7/7 test tools and hrformer_mm itself (editable)"
"${PIP[@]}" install -q "${C[@]}" -r "$REQ/tests.txt"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"

"$VENV/bin/python" -c "import hrformer_mm, mmpose.models, mmseg.models, mmpretrain.models, mim.commands" \
  || { log "import check failed"; exit 1; }
# the hosts' APIs first, hrformer_mm not imported: needs the start-up .pth
"$VENV/bin/python" -c "import mmpose.apis, mmseg.apis, mmdet.apis" \
  || { log "host API import check failed (is hrformer_mm_mmcv_ext.pth in site-packages?)"; exit 1; }
want_stamp > "$STAMP"
log "done in $((SECONDS - t0)) s"
