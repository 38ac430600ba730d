#!/usr/bin/env bash
# The main job on a fresh machine: sets everything up (tools/setup_env.sh), then
# trains a small HAMBox detector on the CPU, evaluates it with the official
# WIDER FACE metric and draws its detections (tools/quickstart.py; --help).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
exec "$ROOT/.venv/bin/python" "$ROOT/tools/quickstart.py" "$@"
