"""How much of their range the PCM devices of a trained mixed-precision model use (issue 12 diagnostic).

Reads ``KeywordSpotter`` checkpoints of ``pcm_mixed_precision`` (also the variants
``benchmarks/training_sweep.py`` writes) and, over every crossbar, the saved conductance of both
devices of each pair (aihwkit's hidden weights of the ``OneSidedUnitCell``; each device's
``max_bound`` is its range): the mean share of the range in use, the largest, the share of
devices below the preset's first SET pulse (0.28 device units), the share of pairs with both
devices above it, and the share of pairs aihwkit would refresh (larger device above
``refresh_upper_thres`` of its range and smaller above ``refresh_lower_thres``; the tile's own
configuration). Writes ``benchmarks/results/pcm_device_occupancy.json``.

    .venv/bin/python benchmarks/pcm_device_occupancy.py \\
        "runs/training_sweep/e10_s0/pcm_mixed_precision*/checkpoints/best.ckpt"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import expand_paths, save_results  # noqa: E402

#: the preset's first SET pulse from a reset device: dw_min (0.01) x (1 + |A_up| = 28.2), aihwkit
#: PCMPresetDevice (ExpStepDevice, A_up -27.235)
FIRST_PULSE_UNITS = 0.01 * (1 + 27.235)


def tile_states(path: str) -> dict[str, dict[str, Any]]:
    """The saved state of every analog tile of a mixed-precision ``KeywordSpotter`` checkpoint,
    by parameter name. Read from the file, not through aihwkit's loader: aihwkit 1.1.0 restores
    the hidden parameters and then calls ``set_weights``, which re-programs every pair from its
    weight (``G+ = max(w, 0)``, ``G- = max(-w, 0)``) and so hides the state training left.

    Raises:
        ValueError: not a mixed-precision checkpoint, or no tile holds a device pair.
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    preset = str(checkpoint.get("hyper_parameters", {}).get("preset", ""))
    if not preset.startswith("pcm_mixed_precision"):
        raise ValueError(f"{path}: preset {preset!r} is not pcm_mixed_precision")
    states = {name: state for name, state in checkpoint["state_dict"].items() if name.endswith("analog_tile_state")}
    if not states:
        raise ValueError(f"{path}: no analog tile state")
    return states


def occupancy(states: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Range use of both devices of every pair, over all saved tiles."""
    shares, conductances, upper, lower = [], [], None, None
    for name, state in states.items():
        values = torch.as_tensor(state["analog_tile_hidden_parameters"])
        hidden = dict(zip(state["analog_tile_hidden_parameter_names"], values))
        if "hidden_weights_1" not in hidden:
            raise ValueError(f"tile {name} holds no device pair")
        unit_cell = state["rpu_config"].device.device
        upper, lower = unit_cell.refresh_upper_thres, unit_cell.refresh_lower_thres
        pair = torch.stack([hidden["hidden_weights_0"], hidden["hidden_weights_1"]]).flatten(1)
        bounds = torch.stack([hidden["max_bound_0"], hidden["max_bound_1"]]).flatten(1)
        conductances.append(pair)
        shares.append(pair / bounds)
    share, conductance = torch.cat(shares, dim=1), torch.cat(conductances, dim=1)
    larger, smaller = share.max(dim=0).values, share.min(dim=0).values
    return {
        "devices": int(share.numel()),
        "mean_range_share": float(share.mean()),
        "largest_range_share": float(share.max()),
        "devices_below_first_pulse": float((conductance < FIRST_PULSE_UNITS).float().mean()),
        "pairs_with_both_devices_set": float((conductance >= FIRST_PULSE_UNITS).all(dim=0).float().mean()),
        "refresh_eligible_pairs": float(((larger > upper) & (smaller > lower)).float().mean()),
        "refresh_thresholds": [upper, lower],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="checkpoint paths or glob patterns")
    args = parser.parse_args()
    paths = expand_paths(args.checkpoints)
    rows = []
    for path in paths:
        row = {"checkpoint": path, **occupancy(tile_states(path))}
        rows.append(row)
        print(f"{path}: mean {100 * row['mean_range_share']:.1f} % of the range, largest "
              f"{100 * row['largest_range_share']:.1f} %, {100 * row['devices_below_first_pulse']:.1f} % of devices "
              f"below one first pulse, {100 * row['pairs_with_both_devices_set']:.1f} % of pairs with both set, "
              f"{100 * row['refresh_eligible_pairs']:.2f} % of pairs refresh-eligible", flush=True)
    save_results("pcm_device_occupancy", {"first_pulse_units": FIRST_PULSE_UNITS, "rows": rows})


if __name__ == "__main__":
    main()
