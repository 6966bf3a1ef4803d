#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with the exact stack of
# requirements.lock, then the package itself (editable, no further resolution).
# Idempotent: re-installs only when pyproject.toml or requirements.lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
stamp=.venv/.pyproject.sha256
want=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[env] creating or refreshing .venv with the pinned stack (first time: several GB, a few minutes)" >&2
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi
