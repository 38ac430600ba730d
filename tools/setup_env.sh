#!/usr/bin/env bash
# Creates .venv/ in the repository root with the pinned stack and installs hambox_mmdet into it
# the way users install it (not editable: mim finds configs and tools only in an installed copy).
# Idempotent: dependencies are installed once per content of requirements/; the package itself is
# reinstalled each time (seconds), so the venv always runs the code of this checkout.
#
#   bash tools/setup_env.sh                 # CPU: torch's CPU build, mmcv's CPU ops (~10 min once)
#   bash tools/setup_env.sh --cuda          # NVIDIA GPU: torch's CUDA build, mmcv built with CUDA
#                                           # ops for this card (~5 min on 16 cores), then a check
#                                           # that mmcv.ops.nms runs on a CUDA tensor
#   bash tools/setup_env.sh --cuda --mmcv-wheel mmcv-2.1.0-cp312-cp312-linux_x86_64.whl
#                                           # a prebuilt mmcv with CUDA ops instead of building one
# --cuda options: --cuda-arch 9.0 (TORCH_CUDA_ARCH_LIST; default: the cards' compute capability from
# nvidia-smi, or $TORCH_CUDA_ARCH_LIST), --mmcv-wheel PATH, --dry-run (print the plan, change nothing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
C="$ROOT/requirements/constraints.txt"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
usage() {
  echo "usage: bash tools/setup_env.sh [--cuda [--cuda-arch LIST] [--mmcv-wheel PATH] [--dry-run]]" >&2
  exit 2
}

CUDA=0 CUDA_ARCH="${TORCH_CUDA_ARCH_LIST:-}" MMCV_WHEEL="" DRY_RUN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) CUDA=1; shift ;;
    --cuda-arch) [ $# -ge 2 ] || usage; CUDA_ARCH="$2"; shift 2 ;;
    --mmcv-wheel) [ $# -ge 2 ] || usage; MMCV_WHEEL="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) awk 'NR > 1 && /^set -euo/ {exit} NR > 1' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "setup_env.sh: unknown option $1" >&2; usage ;;
  esac
done
if [ "$CUDA" = 0 ] && { [ -n "$MMCV_WHEEL" ] || [ "$DRY_RUN" = 1 ]; }; then
  echo "setup_env.sh: --mmcv-wheel and --dry-run go with --cuda" >&2; usage
fi
# Steps shared by the CPU path below and the CUDA path (tools/setup_env_cuda.sh).
make_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment $VENV"
    "$PY" -m venv "$VENV"
  fi
  PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
}
install_other_deps() {
  log "installing mmengine, mmdet and the other dependencies"
  "${PIP[@]}" install -q -c "$C" -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt"
  # openmim's declared extras (openxlab) pin setuptools 60 and break pkg_resources users.
  "${PIP[@]}" install -q --no-deps -c "$C" openmim
  "${PIP[@]}" install -q -c "$C" click colorama model-index pandas requests rich tabulate
}
install_package() {
  log "installing hambox_mmdet from $ROOT"
  # a stale build/ of an earlier install would ship files removed since
  rm -rf "$ROOT/build"
  # --no-build-isolation: build with the pinned setuptools already in the venv (no download).
  "${PIP[@]}" install -q --no-deps --no-build-isolation --force-reinstall "$ROOT"
}

if [ "$CUDA" = 1 ]; then
  # shellcheck source=tools/setup_env_cuda.sh
  source "$ROOT/tools/setup_env_cuda.sh"
  exit 0
fi

make_venv

stamp="$VENV/.hambox-deps-$(cat "$ROOT"/requirements/*.txt | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  log "installing build tools and torch (CPU build)"
  "${PIP[@]}" install -q -c "$C" setuptools wheel ninja torch
  # mmcv 2.1.0 is published as source only: its ops compile against the installed torch
  # (about 10 minutes on 2 cores the first time; pip caches the wheel for later runs).
  # Without --no-build-isolation and MMCV_WITH_OPS=1 one silently gets an mmcv without mmcv.ops.
  if ! "$VENV/bin/python" -c "import mmcv.ops" 2>/dev/null; then
    log "building mmcv 2.1.0 with its ops (about 10 min the first time, cached afterwards)"
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "${PIP[@]}" install -q --no-build-isolation -c "$C" mmcv
  fi
  install_other_deps
  rm -f "$VENV"/.hambox-deps-*
  touch "$stamp"
else
  log "dependencies already installed ($(basename "$stamp"))"
fi

install_package
"$VENV/bin/python" -c "import hambox_mmdet; print('[setup] hambox_mmdet', hambox_mmdet.__version__, 'ready in $VENV')"
