#!/usr/bin/env bash
# The GPU measurements in one command, set-up included (< 9 min on one H100 / H200):
#   1. install mmcv (a PREBUILT wheel with CUDA ops: never compiled here), mmdet, mmengine from
#      wheels, and check that mmcv.ops.nms runs on a CUDA tensor;
#   2. benchmarks/gpu_suite.py: HAMBoxAssigner vs MaxIoUAssigner on CUDA (87,360 anchors; 10, 100,
#      1,000 faces), one R50-FPN training step (batch 8, 640 x 640) HAMBox vs baseline at 10, 100,
#      1,000 faces per image, inference images/s;
#   3. benchmarks/ablation_real_wider.py: the CPU grid's assigner comparison (HAMBox, its baseline,
#      MaxIoU with low-quality matching, ATSS, mining + plain FocalLoss; tiny R18 from scratch, real
#      WIDER FACE images, official metric with outer-face recall), all runs in parallel on the GPU,
#      matched on iterations (not wall clock);
#   4. $OUT/gpu_suite.json and $OUT/gpu_suite.md (Markdown tables), plus logs.
#
# Usage (from the repository root):
#   bash benchmarks/gpu_suite.sh --prepare-carry          # HERE (no GPU): wheels + data subset
#   bash benchmarks/gpu_suite.sh --dry-run                # HERE: print the steps, check the inputs
#   bash benchmarks/gpu_suite.sh --out "$OUT"             # ON THE GPU MACHINE
#
# Options:
#   --mmcv-wheel PATH     mmcv 2.1.0 wheel built with CUDA ops for this Python and torch
#                         (default: the mmcv-*.whl in --wheels-dir)
#   --wheels-dir DIR      install every *.whl there with pip --no-index --no-deps
#                         (default: .device_wheels/ of the checkout)
#   --no-install          use the Python environment as it is (plus --site if it exists)
#   --site DIR            where the wheels are installed (pip --target; default /tmp/hambox_gpu_site)
#   --no-benchmarks       skip step 2
#   --python PY           the interpreter (default: python3)
#   --python-tag TAG      check the wheels against TAG (e.g. cp312, the GPU machine's) instead of
#                         the interpreter's own: for --dry-run on another machine
#   --out DIR             results (default: gpu_suite_out/)
#   --data-root DIR       WIDER FACE for the ablation (default: .device_data/widerface, else
#                         ../shared/data/widerface); absent: the ablation is skipped, said so
#   --ablation-models M   default hambox,baseline,maxiou_lq,atss,hambox_focal (any of
#                         ablation_real_wider.py's models and VARIANTS)
#   --ablation-seeds S    default 0,1,2;  --ablation-iters N  default 300: every run trains
#                         exactly N iterations (batch 16: 4,800 images, the CPU grid's 4,000), so
#                         the models are matched on iterations; 15 runs share one GPU: check the
#                         plan fits the device tool's 10-minute command limit (--ablation-seeds 0
#                         for a third of it)
#   --ablation-batch B    default 16;   --ablation-minutes M  also stop each run after M minutes
#                         (default: none; a run stopped early is no longer iteration-matched)
#   --ablation-val-images N  evaluate on the first N present val images only (default: all;
#                         --quick: 4)
#   --no-ablation         skip step 3
#   --deadline-s S        wall-clock seconds for the whole suite (default 480)
#   --device D            cuda (default) or cpu;  --quick  tiny sizes (with --device cpu: a
#                         logic check of every step on a CPU)
#   --dry-run             print the steps and check the inputs (wheels and their Python tag,
#                         configs, data root); needs no GPU; exit code 1 if an input is wrong
#   --prepare-carry       copy ../shared/device/*.whl to .device_wheels/ and a WIDER FACE subset
#                         that fits the device tool's 64 MiB transfer to .device_data/widerface/
#   --carry-mb MB         the transfer budget for --prepare-carry (default 60)
#   --data-only           --prepare-carry without the wheels: all the budget for data
#
# ../shared does not travel to the device machine: run --prepare-carry here first, then call the
# device tool with carry [".device_wheels", ".device_data"] (both git-ignored) and the command
#   bash benchmarks/gpu_suite.sh --out "$OUT"
# The wheels leave about 18 MiB for data (100 train and 68 val images). For a larger ablation, use
# two calls, the second within the 30 s the machine stays warm (it keeps the checkout's ignored
# folders between calls), after `--prepare-carry` then `--prepare-carry --data-only` here (about
# 60 MiB of images in .device_data/):
#   1. carry [".device_wheels"]:  bash benchmarks/gpu_suite.sh --site .device_site --no-ablation --out "$OUT"
#   2. carry [".device_data"]:    bash benchmarks/gpu_suite.sh --site .device_site --no-install \
#                                      --no-benchmarks --deadline-s 480 --out "$OUT"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
START=$(date +%s)

PY=python3
SITE_ARG=""
BENCH=1
DATA_ONLY=0
PYTAG_ARG=""
WHEELS_DIR=""
MMCV_WHEEL=""
INSTALL=1
OUT_DIR="$ROOT/gpu_suite_out"
DATA_ROOT=""
SEEDS="0,1,2"
MODELS="hambox,baseline,maxiou_lq,atss,hambox_focal"
ITERS=300
BATCH=16
MINUTES=""
VAL_IMAGES=""
ABLATION=1
DEADLINE=480
DEVICE=cuda
QUICK=0
DRY_RUN=0
PREPARE=0
CARRY_MB=60

die() { printf '\033[1;31m[gpu_suite] error:\033[0m %s\n' "$*" >&2; exit 1; }
log() { printf '\033[1;34m[gpu_suite %4ss]\033[0m %s\n' "$(($(date +%s) - START))" "$*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --mmcv-wheel) MMCV_WHEEL="$2"; shift 2 ;;
    --wheels-dir) WHEELS_DIR="$2"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    --site) SITE_ARG="$2"; shift 2 ;;
    --no-benchmarks) BENCH=0; shift ;;
    --data-only) DATA_ONLY=1; shift ;;
    --python) PY="$2"; shift 2 ;;
    --python-tag) PYTAG_ARG="$2"; shift 2 ;;
    --out) OUT_DIR="$2"; shift 2 ;;
    --data-root) DATA_ROOT="$2"; shift 2 ;;
    --ablation-seeds) SEEDS="$2"; shift 2 ;;
    --ablation-models) MODELS="$2"; shift 2 ;;
    --ablation-iters) ITERS="$2"; shift 2 ;;
    --ablation-batch) BATCH="$2"; shift 2 ;;
    --ablation-minutes) MINUTES="$2"; shift 2 ;;
    --ablation-val-images) VAL_IMAGES="$2"; shift 2 ;;
    --no-ablation) ABLATION=0; shift ;;
    --deadline-s) DEADLINE="$2"; shift 2 ;;
    --device) DEVICE="$2"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --prepare-carry) PREPARE=1; shift ;;
    --carry-mb) CARRY_MB="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^set -euo/ {exit} NR > 1' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case "$DEVICE" in cuda|cpu) ;; *) die "--device must be cuda or cpu, got $DEVICE" ;; esac

if [ "$PREPARE" = 1 ]; then
  SRC="$ROOT/../shared/device"
  [ -d "$SRC" ] || die "$SRC not found: --prepare-carry runs in a development checkout"
  wheels_mb=0
  if [ "$DATA_ONLY" = 0 ]; then
    rm -rf "$ROOT/.device_wheels" && mkdir -p "$ROOT/.device_wheels"
    cp "$SRC"/*.whl "$ROOT/.device_wheels/"
    wheels_mb=$(du -sm "$ROOT/.device_wheels" | cut -f1)
  fi
  tree_bytes=$(cd "$ROOT" && { git ls-files -co --exclude-standard -z \
                | xargs -0 stat -c %s 2>/dev/null || true; } | awk '{s += $1} END {print s + 0}')
  tree_mb=$(( (tree_bytes + 1048575) / 1048576 ))
  data_mb=$((CARRY_MB - wheels_mb - tree_mb))
  log "wheels: ${wheels_mb} MiB in .device_wheels/; working tree ${tree_mb} MiB; data budget ${data_mb} MiB"
  [ "$data_mb" -ge 4 ] || die "no room left for data under --carry-mb $CARRY_MB"
  "${PREPARE_PY:-$ROOT/.venv/bin/python}" "$ROOT/benchmarks/gpu_suite_data.py" \
    --src "${DATA_ROOT:-$ROOT/../shared/data/widerface}" --dest "$ROOT/.device_data/widerface" \
    --max-mb "$data_mb"
  if [ "$DATA_ONLY" = 0 ]; then
    log "done: call the device tool with carry [\".device_wheels\", \".device_data\"] and the command"
    log "  bash benchmarks/gpu_suite.sh --out \"\$OUT\""
  else
    log "done: carry [\".device_data\"] only (see the two-call recipe in --help)"
  fi
  exit 0
fi

# ---------------------------------------------------------------- inputs and checks
[ -n "$WHEELS_DIR" ] || { [ -d "$ROOT/.device_wheels" ] && WHEELS_DIR="$ROOT/.device_wheels"; } || true
if [ -z "$DATA_ROOT" ]; then
  if [ -d "$ROOT/.device_data/widerface" ]; then DATA_ROOT="$ROOT/.device_data/widerface"
  else DATA_ROOT="$ROOT/../shared/data/widerface"; fi
fi
problems=()
command -v "$PY" >/dev/null 2>&1 || die "python '$PY' not found (--python)"
PYTAG=$("$PY" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
log "python: $(command -v "$PY") ($PYTAG)"
if [ -n "$PYTAG_ARG" ]; then
  [[ "$PYTAG_ARG" =~ ^cp[0-9]+$ ]] || die "--python-tag must look like cp312, got $PYTAG_ARG"
  [ "$PYTAG_ARG" = "$PYTAG" ] || log "checking the wheels against $PYTAG_ARG (--python-tag), not $PYTAG"
  PYTAG="$PYTAG_ARG"
fi

# the tags of a wheel file name: name-version(-build)?-python-abi-platform.whl
wheel_fits() {  # prints why a wheel does not fit this interpreter, nothing if it does
  local base py abi plat
  base=$(basename "$1" .whl)
  IFS=- read -r -a parts <<<"$base"
  local n=${#parts[@]}
  [ "$n" -ge 5 ] || { echo "not a wheel file name"; return; }
  py=${parts[$((n - 3))]}; abi=${parts[$((n - 2))]}; plat=${parts[$((n - 1))]}
  case ".$py." in
    *".$PYTAG."*|*.py3.*|*.py2.py3.*) ;;
    *) if [ "$abi" = abi3 ]; then
         local need=${py#cp}; local have=${PYTAG#cp}
         [ "${have:0:1}" = "${need:0:1}" ] && [ "${have:1}" -ge "${need:1}" ] \
           || { echo "python tag $py (abi3) does not fit $PYTAG"; return; }
       else echo "python tag $py does not fit $PYTAG"; return; fi ;;
  esac
  case "$plat" in any|*x86_64*) ;; *) echo "platform $plat is not x86_64"; return ;; esac
}

WHEELS=()
if [ "$INSTALL" = 1 ]; then
  if [ -n "$WHEELS_DIR" ]; then
    [ -d "$WHEELS_DIR" ] || problems+=("--wheels-dir $WHEELS_DIR does not exist")
    for w in "$WHEELS_DIR"/*.whl; do
      [ -e "$w" ] || continue
      case "$(basename "$w")" in
        mmcv-*)
          if [ -z "$MMCV_WHEEL" ]; then MMCV_WHEEL="$w"; mmcv_from_dir="$w"
          elif [ -n "${mmcv_from_dir:-}" ]; then
            problems+=("two mmcv wheels in $WHEELS_DIR ($(basename "$mmcv_from_dir"), $(basename "$w")): pass the one to use with --mmcv-wheel")
          fi  # else --mmcv-wheel was given: it wins over the folder's
          continue ;;
      esac
      WHEELS+=("$w")
    done
  fi
  if [ -z "$MMCV_WHEEL" ]; then
    problems+=("no mmcv wheel: give --mmcv-wheel PATH or --wheels-dir DIR holding mmcv-2.1.0-$PYTAG-*.whl (run --prepare-carry in a development checkout; never built on the clock)")
  elif [ ! -f "$MMCV_WHEEL" ]; then
    problems+=("--mmcv-wheel $MMCV_WHEEL: no such file")
  else
    why=$(wheel_fits "$MMCV_WHEEL")
    [ -z "$why" ] || problems+=("the mmcv wheel $(basename "$MMCV_WHEEL") does not fit: $why; build one for this machine from mmcv-2.1.0.tar.gz (tools/setup_env.sh --cuda, ~5 min on 16 cores) and pass it with --mmcv-wheel")
    case "$(basename "$MMCV_WHEEL")" in mmcv-2.1.0-*) ;; *) problems+=("$(basename "$MMCV_WHEEL"): mmdet 3.3.0 needs mmcv 2.1.0") ;; esac
    WHEELS+=("$MMCV_WHEEL")
  fi
  names=()
  for w in "${WHEELS[@]}"; do
    why=$(wheel_fits "$w"); [ -z "$why" ] || problems+=("$(basename "$w"): $why")
    names+=("$(basename "$w" | cut -d- -f1 | tr 'A-Z_' 'a-z-')")
  done
  dups=$(printf '%s\n' "${names[@]}" | sort | uniq -d | tr '\n' ' ')
  [ -z "$dups" ] || problems+=("two wheels of the same package (pip refuses): $dups")
  for need in mmdet mmengine; do
    printf '%s\n' "${names[@]}" | grep -qx "$need" || problems+=("no $need wheel among the wheels to install")
  done
fi
for cfg in configs/hambox/hambox_r50_fpn_widerface.py configs/baselines/retinanet_r50_fpn_face_widerface.py \
           configs/hambox/hambox_r18_fpn_tiny_widerface.py configs/baselines/retinanet_r18_fpn_tiny_widerface.py \
           benchmarks/gpu_suite.py benchmarks/gpu_suite_env.py benchmarks/gpu_suite_assigner.py \
           benchmarks/gpu_suite_train_step.py benchmarks/gpu_suite_inference.py \
           benchmarks/gpu_suite_report.py benchmarks/ablation_real_wider.py benchmarks/bench_assigner.py \
           benchmarks/bench_train_step.py benchmarks/timing.py; do
  [ -f "$ROOT/$cfg" ] || problems+=("missing $cfg")
done
HAVE_DATA=0
if [ "$ABLATION" = 1 ]; then
  if [ -f "$DATA_ROOT/wider_face_split/wider_face_train_bbx_gt.txt" ] \
     && [ -f "$DATA_ROOT/wider_face_split/wider_face_val_bbx_gt.txt" ] \
     && [ -f "$DATA_ROOT/eval_tools/ground_truth/wider_face_val.mat" ]; then
    HAVE_DATA=1
    n_train=$(find "$DATA_ROOT/WIDER_train/images" -name '*.jpg' 2>/dev/null | wc -l)
    n_val=$(find "$DATA_ROOT/WIDER_val/images" -name '*.jpg' 2>/dev/null | wc -l)
    log "data: $DATA_ROOT ($n_train train, $n_val val images present)"
  else
    log "WARNING: no WIDER FACE at $DATA_ROOT: the ablation (step 3) will be skipped" \
        "(--data-root, or --prepare-carry in a development checkout)"
  fi
fi
if [ "$DEVICE" = cuda ] && [ "$DRY_RUN" = 0 ]; then
  command -v nvidia-smi >/dev/null 2>&1 || problems+=("--device cuda but no nvidia-smi on this machine")
fi

QUICK_ARG=(); [ "$QUICK" = 1 ] && QUICK_ARG=(--quick)
SITE="${SITE_ARG:-${HAMBOX_GPU_SITE:-/tmp/hambox_gpu_site}}"
case "$SITE" in /*) ;; *) SITE="$ROOT/$SITE" ;; esac
WORK="${HAMBOX_GPU_WORK:-/tmp/hambox_gpu_suite}"
echo "steps:"
if [ "$INSTALL" = 1 ]; then
  echo "  1. $PY -m pip install --no-index --no-deps --target $SITE <${#WHEELS[@]} wheels>:"
  for w in "${WHEELS[@]}"; do echo "       $(basename "$w")"; done
  echo "     then import mmcv.ops, mmdet, mmengine; mmcv.ops.nms on a $DEVICE tensor"
else
  echo "  1. (--no-install) use $PY as it is$([ -d "$SITE" ] && echo " with $SITE"); mmcv.ops.nms on a $DEVICE tensor"
fi
if [ "$BENCH" = 1 ]; then
  echo "  2. $PY benchmarks/gpu_suite.py --device $DEVICE ${QUICK_ARG[*]} --json $OUT_DIR/gpu_suite.json"
else
  echo "  2. (--no-benchmarks)"
fi
if [ "$ABLATION" = 1 ] && [ "$HAVE_DATA" = 1 ]; then
  echo "  3. $PY benchmarks/ablation_real_wider.py --data-root $DATA_ROOT --device $DEVICE" \
       "--models $MODELS --seeds $SEEDS --iters $ITERS${MINUTES:+ --minutes $MINUTES}" \
       "--batch-size $BATCH --parallel <all runs> --json $OUT_DIR/ablation.json"
else
  echo "  3. (ablation skipped: $([ "$ABLATION" = 0 ] && echo --no-ablation || echo "no data at $DATA_ROOT"))"
fi
echo "  4. $PY benchmarks/gpu_suite.py --sections none --ablation-json ... --markdown $OUT_DIR/gpu_suite.md"
if [ ${#problems[@]} -gt 0 ]; then
  for p in "${problems[@]}"; do printf '\033[1;31m[gpu_suite] problem:\033[0m %s\n' "$p" >&2; done
  exit 1
fi
if [ "$DRY_RUN" = 1 ]; then
  log "dry run: inputs OK"
  exit 0
fi

# ---------------------------------------------------------------- 1. install
mkdir -p "$OUT_DIR"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
if [ "$INSTALL" = 1 ]; then
  log "1/4 installing ${#WHEELS[@]} wheels into $SITE (no index, no dependencies, nothing compiled)"
  "$PY" -m pip install -q --disable-pip-version-check --no-index --no-deps --no-compile \
    --no-cache-dir --upgrade --target "$SITE" "${WHEELS[@]}"
fi
[ -d "$SITE" ] && export PYTHONPATH="$ROOT:$SITE${PYTHONPATH#"$ROOT"}"
if ! "$PY" - "$DEVICE" <<'EOF' 2>&1 | tee "$OUT_DIR/install_check.log"
import sys
device = sys.argv[1]
import torch
print(f'torch {torch.__version__}, CUDA {torch.version.cuda}, '
      f'cuda available: {torch.cuda.is_available()}')
try:
    import mmcv
    from mmcv.ops import nms
except Exception as exc:  # ImportError, undefined symbol, ...
    sys.exit(f'mmcv.ops does not load ({type(exc).__name__}: {exc}): the mmcv '
             'wheel does not fit this Python / torch (it must be built against '
             f'torch {torch.__version__}); build one from mmcv-2.1.0.tar.gz with '
             'tools/setup_env.sh --cuda (~5 min on 16 cores) and pass --mmcv-wheel')
import mmdet, mmengine, scipy, matplotlib, cv2  # noqa: E401,F401
boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60.]],
                     device=device)
_, keep = nms(boxes, torch.tensor([.9, .8, .7], device=device), 0.5)
if keep.cpu().tolist() != [0, 2]:
    sys.exit(f'mmcv.ops.nms on {device}: kept {keep.tolist()}, expected [0, 2]')
print(f'mmcv {mmcv.__version__} (ops ok: nms on {keep.device}), mmdet '
      f'{mmdet.__version__}, mmengine {mmengine.__version__}')
EOF
then
  die "the installed stack does not work (see above and $OUT_DIR/install_check.log)"
fi
[ "$DEVICE" = cuda ] && nvidia-smi --query-gpu=name,memory.total,compute_cap,driver_version \
  --format=csv,noheader | tee "$OUT_DIR/nvidia_smi.txt" || true

# ---------------------------------------------------------------- 2. benchmarks
if [ "$BENCH" = 1 ]; then
  log "2/4 benchmarks/gpu_suite.py (assigner, training step, inference)"
  "$PY" "$ROOT/benchmarks/gpu_suite.py" --device "$DEVICE" "${QUICK_ARG[@]}" \
    --json "$OUT_DIR/gpu_suite.json" 2>&1 | tee "$OUT_DIR/gpu_suite.log" \
    || log "WARNING: gpu_suite.py failed (see $OUT_DIR/gpu_suite.log); going on"
else
  log "2/4 skipped (--no-benchmarks)"
  "$PY" "$ROOT/benchmarks/gpu_suite.py" --device "$DEVICE" --sections env \
    --json "$OUT_DIR/gpu_suite.json" >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------- 3. ablation
ABL_JSON="$OUT_DIR/ablation.json"
rm -f "$ABL_JSON"
if [ "$ABLATION" = 1 ] && [ "$HAVE_DATA" = 1 ]; then
  n_runs=$(( $(tr ',' '\n' <<<"$SEEDS" | grep -c .) * $(tr ',' '\n' <<<"$MODELS" | grep -c .) ))
  cpus=$(nproc)
  workers=$(( cpus / n_runs > 1 ? cpus / n_runs - 1 : 1 ))
  left=$(( DEADLINE - ($(date +%s) - START) ))
  # set-up, test and JSON of parallel runs: about 100 s on the GPU machine (less with --quick)
  overhead=100
  extra=()
  if [ "$QUICK" = 1 ]; then overhead=30; VAL_IMAGES="${VAL_IMAGES:-4}"; extra+=(--threads 1); fi
  [ -z "$VAL_IMAGES" ] || extra+=(--max-val-images "$VAL_IMAGES")
  # matched on iterations: a wall-clock cap only where asked (--ablation-minutes)
  [ -z "$MINUTES" ] || extra+=(--minutes "$MINUTES")
  if [ "$left" -ge $((overhead + 30)) ]; then
    log "3/4 ablation: $n_runs runs in parallel, $ITERS iterations each" \
        "${MINUTES:+(at most $MINUTES min) }batch $BATCH, $workers loader workers each" \
        "(${left}s of the deadline left)"
    "$PY" "$ROOT/benchmarks/ablation_real_wider.py" --data-root "$DATA_ROOT" --device "$DEVICE" \
      --seeds "$SEEDS" --models "$MODELS" --iters "$ITERS" --batch-size "$BATCH" \
      --workers "$workers" --parallel "$n_runs" --log-interval 5 "${extra[@]}" \
      --work-dir "$WORK/ablation" --json "$ABL_JSON" 2>&1 | tee "$OUT_DIR/ablation.log" \
      || log "WARNING: the ablation failed (see $OUT_DIR/ablation.log)"
  else
    log "3/4 ablation skipped: ${left}s left of the ${DEADLINE}s deadline (--deadline-s)"
  fi
else
  log "3/4 ablation skipped ($([ "$ABLATION" = 0 ] && echo --no-ablation || echo "no data at $DATA_ROOT"))"
fi

# ---------------------------------------------------------------- 4. report
log "4/4 report"
"$PY" "$ROOT/benchmarks/gpu_suite.py" --sections none --json "$OUT_DIR/gpu_suite.json" \
  --ablation-json "$ABL_JSON" --markdown "$OUT_DIR/gpu_suite.md" >/dev/null
cat "$OUT_DIR/gpu_suite.md"
log "done in $(($(date +%s) - START)) s: $OUT_DIR/gpu_suite.json, $OUT_DIR/gpu_suite.md"
