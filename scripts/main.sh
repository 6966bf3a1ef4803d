#!/usr/bin/env bash
# The README's main job: create/refresh .venv with the pinned stack, then test the shipped digital
# keyword spotter and fine-tune each PCM preset from it on the same small budget, and print one
# comparison table (accuracy with intervals, drift, energy at equal accuracy, time); the settings
# are recipes/configs/main_job.yaml. Extra arguments go to `memtorch-power compare`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/env.sh
root=${MEMTORCH_POWER_SPEECH_COMMANDS:-../shared/data/speech_commands_mini}
exec .venv/bin/memtorch-power compare --config recipes/configs/main_job.yaml --root "$root" "$@"
