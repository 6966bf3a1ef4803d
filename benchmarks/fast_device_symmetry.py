"""Where the fast devices of ``pcm_fast_weight`` drift: their symmetry points (issue 13 diagnostic).

A pulsed device whose up and down steps differ drifts under balanced (zero-mean) pulses to the
weight where they cancel, its symmetry point (:func:`memtorch_power.closed_loop.symmetry_points`).
For the preset's capacitor fast array (aihwkit ``CapacitorPresetDevice``) this script reports the
spread of those points over a 256 x 256 array, in device units, against the reset value (0) the
transfer returns each fast weight to, and checks them by driving a 256 x 256 array with
alternating up and down pulse trains (the correlation and mean distance between where the
devices settle and their computed points). Writes ``benchmarks/results/fast_device_symmetry.json``
and a BENCHMARKS.md section.

    .venv/bin/python benchmarks/fast_device_symmetry.py [--seeds 0 1 2] [--pulse-steps 2000]
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

from _common import save_results, update_summary
from memtorch_power.closed_loop import symmetry_points
from memtorch_power.nn import analogize
from memtorch_power.nn.convert import analog_tiles
from memtorch_power.presets import get_preset

SIZE = 256
#: |symmetry point| thresholds reported, device units (the preset programs fast weights whose
#: read adds 0.1 device units at gamma 1/3, i.e. 0.3 on the capacitor, and clips at 1)
THRESHOLDS = (0.1, 0.3, 0.5, 1.0)


def array_points(seed: int, pulse_steps: int) -> dict[str, Any]:
    """Symmetry points of one freshly drawn ``SIZE`` x ``SIZE`` fast array of ``pcm_fast_weight``
    and where ``pulse_steps`` alternating up/down updates (lr 0.2) leave its devices."""
    torch.manual_seed(seed)
    layer = analogize(torch.nn.Linear(SIZE, SIZE, bias=False), get_preset("pcm_fast_weight"))
    (tile,) = analog_tiles(layer)
    names = tile.tile.get_hidden_parameter_names()
    hidden = tile.tile.get_hidden_parameters()
    points = symmetry_points(hidden, names, "0")
    inside = ((points < hidden[names.index("max_bound_0")]) & (points > hidden[names.index("min_bound_0")]))
    tile.set_learning_rate(0.2)
    x = torch.ones(1, SIZE)
    for step in range(pulse_steps):  # the simulator's update alone: no transfer resets the devices
        tile.tile.update(x, torch.full((1, SIZE), 1.0 if step % 2 else -1.0), False)
    settled = tile.tile.get_hidden_parameters()[names.index("hidden_weights_0")]
    size = points.abs().flatten()
    return {
        "seed": seed,
        "median_abs_point": float(size.median()),
        "std_point": float(points.std()),
        "share_below": {str(limit): float((size < limit).float().mean()) for limit in THRESHOLDS},
        "share_at_a_bound": float(1.0 - inside.float().mean()),
        "settled_correlation": float(torch.corrcoef(torch.stack([settled.flatten(), points.flatten()]))[0, 1]),
        "settled_mean_distance": float((settled - points).abs().mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pulse-steps", type=int, default=2000)
    args = parser.parse_args()
    rows = [array_points(seed, args.pulse_steps) for seed in args.seeds]
    for row in rows:
        print(row, flush=True)
    save_results("fast_device_symmetry", {"size": SIZE, "pulse_steps": args.pulse_steps, "rows": rows})
    header = "| seed | median abs point | sd | " + " | ".join(f"abs < {t}" for t in THRESHOLDS) + \
             " | at a bound | settled: correlation | settled: mean distance |"
    table = [header, "|" + "---:|" * (5 + len(THRESHOLDS) + 1)]
    for r in rows:
        shares = " | ".join(f"{100 * r['share_below'][str(t)]:.1f} %" for t in THRESHOLDS)
        table.append(f"| {r['seed']} | {r['median_abs_point']:.2f} | {r['std_point']:.2f} | {shares} | "
                     f"{100 * r['share_at_a_bound']:.1f} % | {r['settled_correlation']:.3f} | "
                     f"{r['settled_mean_distance']:.3f} |")
    update_summary(
        "fast_device_symmetry",
        "## Symmetry points of pcm_fast_weight's capacitor fast array (`benchmarks/fast_device_symmetry.py`)\n\n"
        f"aihwkit `CapacitorPresetDevice` as the preset draws it, {SIZE} x {SIZE} devices per seed; device units "
        "(bounds about ±1, reset value 0). A symmetry point is where a device's up and down steps cancel: "
        "balanced pulses drive the device there. *Settled*: after "
        f"{args.pulse_steps} alternating up/down updates (lr 0.2), where the devices are against their computed "
        "points. Results in `benchmarks/results/fast_device_symmetry.json`.\n\n" + "\n".join(table)
        + "\n\nBetween transfers every fast weight is pulled from 0 towards its own point; the transfer "
        "programs what it reads into PCM. Polarity inversion alternates the direction of that pull; a "
        "device referenced to its symmetry point (zero-shifting) cannot work where the point lies at a bound.",
    )


if __name__ == "__main__":
    main()
