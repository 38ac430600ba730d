#!/usr/bin/env bash
# The CPU grid of BENCHMARKS.md ("The regression-aware loss: root cause" and
# "HAMBox against the assigners users would pick instead"): pairs of runs of
# benchmarks/ablation_real_wider.py, two at a time (one per core), each pair
# on its seed(s), in the order their results are needed. Every run writes its
# result to work_dirs/grid/<model>_seed<seed>/result.json as soon as it ends;
# `python benchmarks/ablation_real_wider.py --collect work_dirs/grid` tables
# them. ~19 min per pair on 2 cores (1,000 iterations + 3 min of test).
#   bash benchmarks/run_cpu_grid.sh [FIRST_PAIR]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="${WORK_DIR:-$ROOT/work_dirs/grid}"
PAIRS=(
  "0 baseline,hambox"
  "0 hambox_separate,hambox_separate_cls"
  "1 baseline,hambox"
  "2 baseline,hambox"
  "0 hambox_separate_bbox,hambox_no_iou_weight"
  "0 maxiou_lq,atss"
  "1 maxiou_lq,atss"
  "2 maxiou_lq,atss"
  "1,2 hambox_focal"
  "0 hambox_focal,hambox_noignore"
  "0 hambox_separate_no_iou_weight,hambox_separate_noignore"
)
first="${1:-0}"
for i in "${!PAIRS[@]}"; do
  [ "$i" -lt "$first" ] && continue
  read -r seed models <<<"${PAIRS[$i]}"
  # all runs of a group at once (three share the two cores alike)
  n=$(( $(tr ',' '\n' <<<"$models" | grep -c .) * $(tr ',' '\n' <<<"$seed" | grep -c .) ))
  echo "== pair $i: seed $seed, $models ($(date -u +%H:%M:%S))"
  "$PY" "$ROOT/benchmarks/ablation_real_wider.py" --iters 1000 --seeds "$seed" \
    --models "$models" --parallel "$n" --work-dir "$WORK" \
    --json "$WORK/pair${i}.json" || echo "pair $i failed"
done
