#!/usr/bin/env bash
# The README's test command: create/refresh .venv with the pinned stack, then run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/env.sh
exec .venv/bin/python -m pytest "$@"
