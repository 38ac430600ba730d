#!/usr/bin/env bash
# Sets everything up (tools/setup_env.sh: .venv/ with the pinned stack and
# hambox_mmdet installed as users install it) and runs the test suite.
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh -k assigner`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest tests "$@"
