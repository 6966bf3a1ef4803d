"""How large the analog weights of trained in-array checkpoints grew (issue 13 diagnostic).

Reads ``KeywordSpotter`` checkpoints (any analog preset, e.g. the variants
``benchmarks/training_sweep.py`` writes) and, over every saved analog tile, the weights the
network reads, in device units: their standard deviation, the share beyond 1 device unit (the
capacitor fast array's range) and the largest magnitude; for transfer compounds whose last device
is a PCM pair, also the fast array's standard deviation. Read from the file, not through aihwkit's
loader. Writes ``benchmarks/results/weight_magnitudes.json``.

    .venv/bin/python benchmarks/weight_magnitudes.py "runs/training_sweep/e40_s0/*/checkpoints/best.ckpt"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import expand_paths, save_results  # noqa: E402

#: the capacitor fast array's range (aihwkit ``CapacitorPresetDevice``: ``w_max`` 1.0)
CAPACITOR_RANGE = 1.0


def tile_states(path: str) -> dict[str, dict[str, Any]]:
    """Every saved analog tile state of a checkpoint, by parameter name.

    Raises:
        ValueError: the checkpoint holds no analog tile.
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    states = {name: state for name, state in checkpoint["state_dict"].items() if name.endswith("analog_tile_state")}
    if not states:
        raise ValueError(f"{path}: no analog tile state (a digital checkpoint?)")
    return states


def magnitudes(states: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Statistics of the weights (device units) over all tiles, and of the fast array where
    there is one."""
    weights, fast = [], []
    for state in states.values():
        weights.append(torch.as_tensor(state["analog_tile_weights"]).flatten())
        names = list(state.get("analog_tile_hidden_parameter_names") or [])
        if "hidden_weights_1_1" in names:  # transfer compound: device 0 fast, device 1 the PCM pair
            fast.append(torch.as_tensor(state["analog_tile_hidden_parameters"][names.index("hidden_weights_0")]).flatten())
    w = torch.cat(weights)
    row = {
        "weights": int(w.numel()),
        "weight_std": float(w.std()),
        "share_beyond_capacitor_range": float((w.abs() > CAPACITOR_RANGE).float().mean()),
        "largest_weight": float(w.abs().max()),
    }
    if fast:
        row["fast_std"] = float(torch.cat(fast).std())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="checkpoint paths or glob patterns")
    args = parser.parse_args()
    paths = expand_paths(args.checkpoints)
    rows = []
    for path in paths:
        row = {"checkpoint": path, **magnitudes(tile_states(path))}
        rows.append(row)
        fast = f", fast array std {row['fast_std']:.3f}" if "fast_std" in row else ""
        print(f"{path}: weight std {row['weight_std']:.3f} device units, "
              f"{100 * row['share_beyond_capacitor_range']:.1f} % beyond {CAPACITOR_RANGE:g}, "
              f"largest {row['largest_weight']:.2f}{fast}", flush=True)
    save_results("weight_magnitudes", {"capacitor_range": CAPACITOR_RANGE, "rows": rows})


if __name__ == "__main__":
    main()
