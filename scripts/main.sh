#!/usr/bin/env bash
# The README's main job: create/refresh .venv with the pinned stack, then train the keyword
# spotter digitally and on each PCM preset on the same small budget and print one comparison
# table (accuracy, drift, energy, time). Extra arguments go to `memtorch-power compare`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/env.sh
root=${MEMTORCH_POWER_SPEECH_COMMANDS:-../shared/data/speech_commands_mini}
exec .venv/bin/memtorch-power compare --root "$root" --epochs 4 --output_dir runs/compare "$@"
