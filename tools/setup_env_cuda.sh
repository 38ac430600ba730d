# The CUDA path of tools/setup_env.sh, sourced by it with --cuda (it sets ROOT, VENV, PY, C, log,
# CUDA_ARCH, MMCV_WHEEL and DRY_RUN, and the shared steps make_venv, install_other_deps and
# install_package). Same .venv/ and pins as the CPU path, but:
#   - torch: the CUDA build of the pinned version (PyPI's default Linux wheel); a CPU build fails
#     the set-up with what to do;
#   - mmcv 2.1.0: a given prebuilt wheel (--mmcv-wheel), else built from source with its CUDA ops
#     (MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=<the card's compute capability>; about
#     5 minutes on 16 cores; pip's wheel cache is bypassed so that a cached CPU-only build of
#     the same version is never reused);
#   - at the end, mmcv.ops.nms must run on a CUDA tensor.
TORCH_PIN=$(grep -E '^torch==' "$C" | cut -d= -f3)
cuda_die() { printf '\033[1;31m[setup --cuda] error:\033[0m %s\n' "$*" >&2; exit 1; }

if [ -n "$MMCV_WHEEL" ]; then
  [ -f "$MMCV_WHEEL" ] || cuda_die "--mmcv-wheel $MMCV_WHEEL: no such file"
  MMCV_WHEEL="$(cd "$(dirname "$MMCV_WHEEL")" && pwd)/$(basename "$MMCV_WHEEL")"
  case "$(basename "$MMCV_WHEEL")" in
    mmcv-2.1.0-*.whl) ;;
    *) cuda_die "--mmcv-wheel $(basename "$MMCV_WHEEL"): expected an mmcv 2.1.0 wheel (mmdet 3.3.0 refuses mmcv >= 2.2)" ;;
  esac
  mmcv_step="pip install --no-deps --force-reinstall $MMCV_WHEEL (prebuilt, nothing compiled)"
else
  if [ -z "$CUDA_ARCH" ] && command -v nvidia-smi >/dev/null 2>&1; then
    CUDA_ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null \
                | tr -d ' ' | sort -u | paste -sd';' -)
  fi
  [ -n "$CUDA_ARCH" ] || cuda_die "cannot tell the GPU's compute capability (no nvidia-smi): give" \
    "--cuda-arch, e.g. 9.0 (H100 / H200), 8.0 (A100), 8.6 (RTX 30xx), 8.9 (L4 / RTX 40xx)"
  [[ "$CUDA_ARCH" =~ ^[0-9]+\.[0-9]+(\+PTX)?([\;\ ][0-9]+\.[0-9]+(\+PTX)?)*$ ]] \
    || cuda_die "--cuda-arch '$CUDA_ARCH': expected compute capabilities like 9.0 or '8.0;9.0'"
  mmcv_step="MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST='$CUDA_ARCH' MAX_JOBS=${MAX_JOBS:-$(nproc)} pip install --no-build-isolation --no-cache-dir --force-reinstall --no-deps mmcv==2.1.0 (builds the CUDA ops, ~5 min on 16 cores)"
fi

log "CUDA set-up plan:"
log "  1. $VENV (created with $PY if absent)"
log "  2. pip install setuptools wheel ninja, then torch==$TORCH_PIN, the CUDA build (fails if pip gives a CPU build)"
log "  3. mmcv 2.1.0 with CUDA ops, unless the installed one already runs mmcv.ops.nms on CUDA: $mmcv_step"
log "  4. mmengine, mmdet and the other pinned dependencies; openmim; hambox_mmdet (not editable)"
log "  5. check: mmcv.ops.nms on a CUDA tensor"
if [ "$DRY_RUN" = 1 ]; then
  log "dry run: nothing changed"
  exit 0
fi

make_venv
stamp="$VENV/.hambox-deps-cuda-$(cat "$ROOT"/requirements/*.txt | sha1sum | cut -c1-12)"
torch_cuda() { "$VENV/bin/python" -c 'import torch; print(torch.version.cuda or "")' 2>/dev/null || true; }
nms_on_cuda() {
  "$VENV/bin/python" - <<'EOF'
import torch
from mmcv.ops import nms
boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60.]], device='cuda')
_, keep = nms(boxes, torch.tensor([.9, .8, .7], device='cuda'), 0.5)
assert keep.cpu().tolist() == [0, 2], keep
print(f'[setup] mmcv.ops.nms on {keep.device}: ok (torch {torch.__version__}, '
      f'CUDA {torch.version.cuda}, {torch.cuda.get_device_name()})')
EOF
}

if [ ! -f "$stamp" ]; then
  log "installing build tools and torch $TORCH_PIN (CUDA build)"
  "${PIP[@]}" install -q -c "$C" setuptools wheel ninja
  if [ -z "$(torch_cuda)" ]; then
    "${PIP[@]}" install -q --force-reinstall --no-deps -c "$C" torch
    "${PIP[@]}" install -q -c "$C" torch  # its dependencies (the CUDA libraries)
  fi
  [ -n "$(torch_cuda)" ] || cuda_die "pip installed a CPU build of torch $TORCH_PIN (a local wheel or" \
    "an index in pip's configuration: PIP_INDEX_URL / PIP_FIND_LINKS / pip.conf). Install its CUDA" \
    "build into $VENV first (PyPI's default index, or https://download.pytorch.org/whl/cuXXX)," \
    "then run this again"
  "$VENV/bin/python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
    || cuda_die "torch $(torch_cuda) sees no GPU (driver too old for CUDA $(torch_cuda), or no GPU here)"
  if nms_on_cuda >/dev/null 2>&1; then
    log "mmcv with CUDA ops already installed"
  elif [ -n "$MMCV_WHEEL" ]; then
    log "installing the prebuilt mmcv wheel $(basename "$MMCV_WHEEL")"
    "${PIP[@]}" install -q --no-deps --force-reinstall "$MMCV_WHEEL"
  else
    command -v nvcc >/dev/null 2>&1 || [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ] \
      || cuda_die "building mmcv's CUDA ops needs nvcc (the CUDA toolkit matching torch's CUDA" \
        "$(torch_cuda)); set CUDA_HOME, or pass a prebuilt wheel with --mmcv-wheel"
    log "building mmcv 2.1.0 with CUDA ops for TORCH_CUDA_ARCH_LIST=$CUDA_ARCH (about 5 min on 16 cores)"
    MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$CUDA_ARCH" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "${PIP[@]}" install -q --no-build-isolation --no-cache-dir --force-reinstall --no-deps -c "$C" mmcv
  fi
  install_other_deps
  rm -f "$VENV"/.hambox-deps-*
  touch "$stamp"
else
  log "dependencies already installed ($(basename "$stamp"))"
fi

install_package
nms_on_cuda || cuda_die "mmcv.ops.nms does not run on a CUDA tensor: mmcv was built without CUDA" \
  "ops or for another card / torch; run again with --mmcv-wheel or a matching --cuda-arch"
"$VENV/bin/python" -c "import hambox_mmdet; print('[setup] hambox_mmdet', hambox_mmdet.__version__, 'ready in $VENV (CUDA)')"
